/// Bits of the per-label crop flags.
enum CropFlag {
    static let inReference: UInt8 = 1
    static let inPrediction: UInt8 = 2
    static let referenceBoundary: UInt8 = 4
    static let predictionBoundary: UInt8 = 8
}
