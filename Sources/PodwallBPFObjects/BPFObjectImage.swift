import Foundation

/// A compiled BPF object embedded in the binary by the BPF compiler plugin.
/// One static property per `bpf/*.bpf.c`, named after the file (`.tc`).
public struct BPFObjectImage: Sendable {
    public let name: String
    private let base64: String

    public init(name: String, base64: String) {
        self.name = name
        self.base64 = base64
    }

    /// The ELF bytes, decoded on use: they are needed once per load.
    public var bytes: [UInt8] {
        guard let data = Data(base64Encoded: base64) else {
            preconditionFailure("embedded BPF object \(name) is not valid base64")
        }
        return [UInt8](data)
    }
}
