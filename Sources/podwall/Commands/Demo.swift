import ArgumentParser

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Build a lab of pods and show podwall live.")
    func run() async throws {}
}
