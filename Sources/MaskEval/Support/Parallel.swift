import Dispatch
import Synchronization

/// The number of cores the process may use (the default for `--threads`).
public var activeCoreCount: Int {
    max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
}

#if canImport(Glibc)
    import Glibc
#endif

/// Runs `body(index)` for every index in `0..<count` on up to `threads` workers.
///
/// Built on `DispatchQueue.concurrentPerform`; workers take indices in blocks of `grain`
/// from a shared atomic counter, so uneven items (labels of very different size, lines of
/// different length) balance themselves. The caller guarantees that each index writes
/// disjoint memory or its own accumulator: results then do not depend on `threads`.
/// With `threads <= 1` the loop runs inline, in index order.
func parallelFor(_ count: Int, threads: Int, grain: Int = 1, _ body: (Int) -> Void) {
    parallelForWithWorker(count, threads: threads, grain: grain) { _, index in body(index) }
}

/// Runs `body(worker, index)` like `parallelFor`, and also passes the worker number
/// (`0..<threads`), so each worker can use its own scratch buffer.
func parallelForWithWorker(
    _ count: Int, threads: Int, grain: Int = 1, _ body: (_ worker: Int, _ index: Int) -> Void
) {
    precondition(grain >= 1, "grain must be positive")
    let workers = min(threads, (count + grain - 1) / grain)
    if workers <= 1 {
        for index in 0..<count { body(0, index) }
        return
    }
    let next = Atomic<Int>(0)
    withoutActuallyEscaping(body) { body in
        let box = UncheckedSendable(body)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            while true {
                let start = next.wrappingAdd(grain, ordering: .relaxed).oldValue
                if start >= count { break }
                for index in start..<min(start + grain, count) { box.value(worker, index) }
            }
        }
    }
}

/// Wraps a value that the caller promises to use safely across threads (pointers into
/// disjoint regions, closures that only touch such regions).
public struct UncheckedSendable<Value>: @unchecked Sendable {
    public let value: Value
    public init(_ value: Value) { self.value = value }
}
