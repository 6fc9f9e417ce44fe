import Foundation

/// Text inputs other than volumes (label names, pairs CSV, tolerance maps): read whole,
/// from regular files only, with a size cap.
public enum InputFile {
    /// The bytes of the file at `path`.
    ///
    /// Throws `ReadError`: `.missing` (exit 66) when nothing is there; `.notRegular` (66)
    /// for a FIFO, device or socket (opened without blocking, so a FIFO never hangs);
    /// `.unreadable` (66) for a directory, a symbolic link loop or no permission; `.invalid`
    /// (65) when the file holds more than `limitBytes` bytes.
    public static func readData(path: String, limitBytes: Int) throws -> Data {
        let (fd, size) = try RegularFile.open(path)
        defer { close(fd) }
        guard size <= limitBytes else {
            throw ReadError.invalid(
                path: path, reason: "\(size) bytes, more than the \(limitBytes) this input may have")
        }
        var data = Data(count: size)
        var done = 0
        let failure: Int32? = data.withUnsafeMutableBytes { buffer -> Int32? in
            guard let base = buffer.baseAddress else { return nil }
            while done < size {
                let got = read(fd, base + done, size - done)
                if got < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                if got == 0 { break }
                done += got
            }
            return nil
        }
        if let failure {
            throw ReadError.unreadable(path: path, reason: String(cString: strerror(failure)))
        }
        // A file that shrank while being read is read as it now is.
        return data.prefix(done)
    }
}
