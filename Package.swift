// swift-tools-version:6.1
import Foundation
import PackageDescription

/// The kernels are compiled for the CPU family of the machine that builds superres (superres is built from source):
/// Zen 4 where the build machine is an AMD CPU with AVX-512, Skylake-AVX512 for other AVX-512 CPUs, Haswell (AVX2 +
/// FMA) otherwise. `SUPERRES_TARGET_CPU` overrides the choice (any `-target-cpu` name, or `generic` for no flag).
let kernelCPU: String? = {
    if let chosen = ProcessInfo.processInfo.environment["SUPERRES_TARGET_CPU"], !chosen.isEmpty {
        return chosen == "generic" ? nil : chosen
    }
    #if arch(x86_64)
    guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
        let flagsLine = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
    else { return "haswell" }
    let flags = Set(flagsLine.split(separator: " ").map(String.init))
    if flags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl", "avx512dq"]) {
        let isAMD = cpuinfo.contains("AuthenticAMD")
        return isAMD && flags.contains("avx512_bf16") ? "znver4" : "skylake-avx512"
    }
    if flags.isSuperset(of: ["avx2", "fma"]) { return "haswell" }
    return nil
    #else
    return nil
    #endif
}()

/// The CPU family flag alone: for targets that parse untrusted bytes, which keep Swift's bounds and overflow checks.
let cpuSettings: [SwiftSetting] = kernelCPU.map { [.unsafeFlags(["-target-cpu", $0])] } ?? []

/// Whether the kernels' CPU family has AVX-512's 32 vector registers: the Winograd micro-kernel then keeps 6 tiles ×
/// 32 channels of sums in registers; with AVX2's 16 it works on 6 × 16 at a time (24 sums would spill).
let kernelCPUHasAVX512: Bool = {
    guard let cpu = kernelCPU else { return false }
    let avx512Families: Set<String> = [
        "znver4", "znver5", "skylake-avx512", "cascadelake", "cooperlake", "cannonlake", "icelake-client",
        "icelake-server", "tigerlake", "sapphirerapids", "emeraldrapids", "graniterapids", "x86-64-v4",
    ]
    return avx512Families.contains(cpu)
}()

/// Kernels only: `-Ounchecked` (no overflow or bounds traps in the hot loops), the CPU family, and
/// `SUPERRES_AVX512_REGISTERS` where it has 32 vector registers.
let kernelSettings: [SwiftSetting] =
    [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))] + cpuSettings
    + (kernelCPUHasAVX512 ? [.define("SUPERRES_AVX512_REGISTERS")] : [])

let package = Package(
    name: "superres",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "superres", targets: ["superres"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.34.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // C libraries, found through pkg-config, with the Debian packages that provide them.
        .systemLibrary(name: "CPNG", pkgConfig: "libpng16", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg62-turbo-dev"])]),
        .systemLibrary(name: "CWebP", pkgConfig: "libwebp", providers: [.apt(["libwebp-dev"])]),
        .systemLibrary(name: "CDeflate", pkgConfig: "libdeflate", providers: [.apt(["libdeflate-dev"])]),
        .systemLibrary(name: "CLCMS2", pkgConfig: "lcms2", providers: [.apt(["liblcms2-dev"])]),
        .systemLibrary(name: "CTIFF", pkgConfig: "libtiff-4", providers: [.apt(["libtiff-dev"])]),
        // The only place where libpng/libjpeg's setjmp/longjmp error handling lives; also the fast PNG writer, TIFF
        // through libtiff and colour conversion through lcms2.
        .target(
            name: "CImageShims", dependencies: ["CPNG", "CJPEG", "CWebP", "CDeflate", "CLCMS2", "CTIFF"],
            // zlib (libpng's own) for the streaming PNG writer and PNG metadata; libwebp's demux and mux for the WebP
            // metadata chunks.
            linkerSettings: [
                .linkedLibrary("z"), .linkedLibrary("webpdemux"), .linkedLibrary("webpmux"), .linkedLibrary("lcms2"),
                .linkedLibrary("tiff"),
            ]),

        // The bfloat16 micro-kernels (AMX tiles, AVX-512 BF16 dot products): instructions Swift cannot spell, each
        // function compiled for its own instruction set and called only when the CPU has it.
        .target(name: "CMatrixKernels", cSettings: [.unsafeFlags(["-O3"])]),

        // glibc's allocator settings (malloc.h), which Swift's Glibc module does not export.
        .target(name: "CAllocator"),

        .target(name: "Tensor"),
        .target(name: "Kernels", dependencies: ["Tensor", "CMatrixKernels", "CAllocator"], swiftSettings: kernelSettings),
        .target(name: "Engine", dependencies: ["Tensor", "Kernels"]),
        .target(name: "Models", dependencies: ["Engine", "Kernels", "Tensor"]),
        // The catalogue of models known by name, the store folder, downloads and pip wheels, checksums.
        .target(
            name: "ModelStore",
            dependencies: [
                "Models", "Engine", "Kernels", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]),
        // Pure pixel loops (float planes, OpenCV-exact colour conversion and resizing): no parsing, so -Ounchecked.
        .target(name: "PixelMath", swiftSettings: kernelSettings),
        // Imaging reads untrusted headers and EXIF in Swift: checked arithmetic and bounds (no -Ounchecked).
        .target(
            name: "Imaging", dependencies: ["CImageShims", "CPNG", "CJPEG", "CWebP", "Kernels", "PixelMath"],
            swiftSettings: cpuSettings),
        // The multipart/form-data reader (untrusted request bodies): its own target so the fuzz build stays small.
        .target(name: "MultipartForms", dependencies: [.product(name: "NIOCore", package: "swift-nio")]),
        .target(
            name: "Pipeline", dependencies: ["Models", "ModelStore", "Engine", "Imaging", "Kernels", "PixelMath", "Tensor"]),
        .target(name: "Evaluation", dependencies: ["Pipeline", "Models", "ModelStore", "Imaging", "PixelMath"]),
        // Jobs shared by many machines: the PostgreSQL schema, its migrations, the queue with leases, blobs, events.
        .target(
            name: "JobQueue",
            dependencies: [
                .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "Logging", package: "swift-log"),
            ]),
        // The `superres batch` client: a folder through any superres service's jobs API, resumable from a manifest.
        .target(
            name: "BatchClient",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
            ]),
        .target(
            name: "Server",
            dependencies: [
                "Pipeline", "Models", "ModelStore", "Imaging", "Kernels", "MultipartForms", "JobQueue",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Web"), .copy("openapi.yaml")]
        ),
        .executableTarget(
            name: "superres",
            dependencies: [
                "Pipeline", "ModelStore", "Server", "Evaluation", "JobQueue", "BatchClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // The fuzz harnesses (every parser of untrusted bytes) and their driver: libFuzzer under `scripts/fuzz`, a
        // replayer of input files otherwise.
        .target(name: "FuzzHarnesses", dependencies: ["Imaging", "Models", "Engine", "MultipartForms",
            .product(name: "NIOCore", package: "swift-nio")]),
        .target(name: "CFuzzing"),
        .executableTarget(name: "superres-fuzz", dependencies: ["FuzzHarnesses", "CFuzzing"]),

        .target(name: "TestSupport", dependencies: ["Tensor", "Imaging"]),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "Tensor", "TestSupport"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "Kernels", "Tensor", "TestSupport"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "Engine", "Tensor", "TestSupport"]),
        .testTarget(
            name: "ModelStoreTests",
            dependencies: [
                "ModelStore", "Models", "TestSupport", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "PipelineTests", dependencies: ["Pipeline", "Models", "ModelStore", "Imaging", "TestSupport"],
            resources: [.copy("Fixtures")]
        ),
        // Depends on the executable so that `swift test` always builds the binary it runs.
        .testTarget(name: "CLITests", dependencies: ["superres", "TestSupport", "Imaging", "Kernels", "ModelStore"]),
        .testTarget(
            name: "EvaluationTests",
            dependencies: ["Evaluation", "Pipeline", "Models", "ModelStore", "Imaging", "TestSupport"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "FuzzHarnessTests", dependencies: ["FuzzHarnesses", "TestSupport"]),
        .testTarget(
            name: "ServerTests",
            dependencies: [
                "Server", "ModelStore", "MultipartForms", "Kernels", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"), .product(name: "Yams", package: "Yams"),
            ]
        ),
        // Needs a PostgreSQL: `SUPERRES_TEST_STORE` (scripts/with-postgres starts a throwaway cluster and sets it).
        .testTarget(name: "JobQueueTests", dependencies: ["JobQueue", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "BatchClientTests", dependencies: ["BatchClient", "Server", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
