import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The memory a run may still take, and the check that refuses volumes that would not fit
/// before any voxel is read or inflated (a gzip bomb is refused by its header).
public struct MemoryLimit: Equatable, Sendable {
    /// Bytes still available under this limit.
    public var bytes: Int
    /// What the limit is, for messages ("available memory (MemAvailable)").
    public var name: String

    public init(bytes: Int, name: String) {
        self.bytes = bytes
        self.name = name
    }
}

public enum MemoryGuard {
    /// Bytes per voxel of one volume over a whole `compare`, beyond its stored voxels. Peak
    /// RSS measured with `/usr/bin/time -v` (README, Hardening) on a 273 × 327 × 273 pair
    /// (the JHU sample upsampled 3×), less the 22 MB baseline, per voxel of each volume:
    /// uint8 4.6–5.0, int16 5.1–6.1, int32 7.6–8.0, float32 7.6–8.1, float64 9.7–12.0 over
    /// the monai, deepmind and all presets: the peak is the read (stored voxels + 4 bytes of
    /// Int32 label, both volumes at once). 5 leaves a byte per voxel for the engine. (A pair
    /// of 3-voxel random cubes, where every voxel is on a surface, peaked at 17.9 (monai) and
    /// 23.0 (deepmind) bytes per voxel: not a segmentation, and not guarded for.)
    static let runBytesPerVoxel = 5

    /// Peak bytes per voxel of one volume of `type` over a `compare` run.
    public static func bytesPerVoxel(_ type: VoxelType) -> Int { runBytesPerVoxel + type.byteCount }

    /// The limits that apply now: available memory (`MemAvailable`), the address-space
    /// limit (`ulimit -v`, less what the process has mapped) and the cgroup's memory limit
    /// (v2 `memory.max`, v1 `memory.limit_in_bytes`, less its usage). Unknown ones are left out.
    public static func limits() -> [MemoryLimit] {
        var found: [MemoryLimit] = []
        if let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) {
            for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
                let fields = line.split(separator: " ")
                if fields.count >= 2, let kib = Int(fields[1]) {
                    found.append(MemoryLimit(bytes: kib * 1024, name: "available memory (MemAvailable)"))
                }
            }
        }
        var limit = rlimit()
        if getrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &limit) == 0,
            limit.rlim_cur < UInt64(Int.max)  // RLIM_INFINITY is all ones
        {
            let mapped = mappedBytes() ?? 0
            found.append(
                MemoryLimit(
                    bytes: max(0, Int(limit.rlim_cur) - mapped), name: "the address-space limit (ulimit -v)"))
        }
        if let cgroup = cgroupLimit() { found.append(cgroup) }
        return found
    }

    /// The lowest of `limits()`, or nil when none is known.
    public static func lowestLimit() -> MemoryLimit? {
        limits().min { $0.bytes < $1.bytes }
    }

    /// Refuses volumes read together (a reference and a prediction) whose run would need
    /// more than the lowest limit, or one with more voxels than `maxVoxels`. The error names
    /// the volume that tips it over (the reference first) and the limit.
    static func check(_ layouts: [VoxelLayout], maxVoxels: Int?, limit: MemoryLimit? = lowestLimit()) throws {
        if let maxVoxels, let over = layouts.first(where: { $0.voxelCount > maxVoxels }) {
            throw ReadError.invalid(
                path: over.path, reason: "\(over.voxelCount) voxels exceed --max-voxels \(maxVoxels)")
        }
        var needed = 0
        var overflow = false
        for (index, layout) in layouts.enumerated() {
            let (bytes, o1) = layout.voxelCount.multipliedReportingOverflow(by: bytesPerVoxel(layout.type))
            let (sum, o2) = needed.addingReportingOverflow(bytes)
            overflow = overflow || o1 || o2
            needed = sum
            guard overflow || (limit.map { needed > $0.bytes } ?? false) else { continue }
            let gib =
                layouts.prefix(index + 1).reduce(0.0) {
                    $0 + Double($1.voxelCount) * Double(bytesPerVoxel($1.type))
                } / Double(1 << 30)
            let with = index > 0 ? " with \(layouts[0].path)" : ""
            let available = limit.map {
                String(format: "%.1f", Double($0.bytes) / Double(1 << 30)) + " GiB left under " + $0.name
            }
            throw ReadError.invalid(
                path: layout.path,
                reason: "\(layout.voxelCount) voxels of \(layout.type.name)\(with) need about "
                    + String(format: "%.1f", gib) + " GiB, more than " + (available ?? "a 64-bit size"))
        }
    }

    /// Bytes the process has mapped now (`VmSize` of /proc/self/statm).
    private static func mappedBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
            let pages = text.split(separator: " ").first.flatMap({ Int($0) })
        else { return nil }
        return pages * sysconf(Int32(_SC_PAGESIZE))
    }

    /// The cgroup's memory limit less its usage: v2 (`memory.max`, `memory.current`) then
    /// v1 (`memory.limit_in_bytes`, `memory.usage_in_bytes`), at the process's own cgroup
    /// path and at the mount's root (inside a container the namespace's root is the cgroup).
    private static func cgroupLimit() -> MemoryLimit? {
        let own = (try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)) ?? ""
        var v2Path = ""
        var v1Path = ""
        for line in own.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            if parts[0] == "0" && parts[1].isEmpty { v2Path = String(parts[2]) }
            if parts[1].split(separator: ",").contains("memory") { v1Path = String(parts[2]) }
        }
        let candidates: [(String, String, String)] = [
            ("/sys/fs/cgroup" + v2Path, "memory.max", "memory.current"),
            ("/sys/fs/cgroup", "memory.max", "memory.current"),
            ("/sys/fs/cgroup/memory" + v1Path, "memory.limit_in_bytes", "memory.usage_in_bytes"),
            ("/sys/fs/cgroup/memory", "memory.limit_in_bytes", "memory.usage_in_bytes"),
        ]
        for (folder, limitFile, usageFile) in candidates {
            guard let text = try? String(contentsOfFile: folder + "/" + limitFile, encoding: .utf8) else { continue }
            let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
            // "max" (v2) or a page-rounded 2^63 (v1): no limit.
            guard let max = Int(value), max < 1 << 60 else { return nil }
            let usage =
                (try? String(contentsOfFile: folder + "/" + usageFile, encoding: .utf8))
                .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0
            return MemoryLimit(bytes: Swift.max(0, max - usage), name: "the cgroup memory limit (\(limitFile))")
        }
        return nil
    }
}
