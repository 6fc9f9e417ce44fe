// swift-tools-version:6.0
import PackageDescription

// nifticlib (Debian libnifti-dev) ships no pkg-config file; its headers live in
// /usr/include/nifti and nifti2_io.h includes <znzlib.h> from there, so every target that
// (transitively) imports the CNIfTI module needs this search path.
let niftiInclude: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-I/usr/include/nifti"])]

let package = Package(
    name: "MaskEval",
    products: [
        .library(name: "MaskEval", targets: ["MaskEval"]),
        .executable(name: "maskeval", targets: ["MaskEvalCLI"]),
        // The C interface (include/maskeval.h) that the Python package loads.
        .library(name: "MaskEvalC", type: .dynamic, targets: ["MaskEvalC"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
    ],
    targets: [
        .systemLibrary(name: "CNIfTI", path: "Sources/CNIfTI"),
        // libdeflate (Debian libdeflate-dev): gzip voxel data inflated in one call.
        .systemLibrary(name: "CDeflate", path: "Sources/CDeflate"),
        .target(
            name: "MaskEval",
            dependencies: ["CNIfTI", "CDeflate"],
            swiftSettings: niftiInclude
        ),
        .executableTarget(
            name: "MaskEvalCLI",
            dependencies: [
                "MaskEval",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: niftiInclude
        ),
        .target(
            name: "MaskEvalC",
            dependencies: ["MaskEval"],
            exclude: ["include"],
            swiftSettings: niftiInclude
        ),
        .testTarget(
            name: "MaskEvalTests",
            dependencies: ["MaskEval"],
            swiftSettings: niftiInclude
        ),
        .testTarget(
            name: "MaskEvalCLITests",
            dependencies: ["MaskEval"],
            swiftSettings: niftiInclude
        ),
    ]
)
