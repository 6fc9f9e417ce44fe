/// What `maskeval info` computes about one file: the volume and its census.
public struct Inspection: Sendable {
    public var volume: LabelVolume
    public var labels: [LabelCensus]

    public init(path: String, maxVoxels: Int?, threads: Int) throws {
        volume = try NIfTIReader.read(path: path, maxVoxels: maxVoxels, threads: threads)
        let grid = volume.grid
        labels = Census.count(reference: volume.storage, nx: grid.nx, ny: grid.ny, nz: grid.nz, threads: threads)
    }
}
