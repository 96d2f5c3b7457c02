/// The workload a pod belongs to, from its name as the kubelet gives it:
/// the pods of one Deployment, DaemonSet or StatefulSet share what they
/// run, so their process baseline is learned together. Names of a
/// ReplicaSet's pods end in `-<template hash>-<5 characters>`, a DaemonSet's
/// or Job's in `-<5 characters>`, a StatefulSet's in `-<ordinal>`; anything
/// else is its own workload.
public enum WorkloadName {
    public static func of(pod name: String) -> String {
        var parts = name.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 2, let last = parts.last else { return name }
        if last.allSatisfy(\.isNumber) || isGeneratedSuffix(last) {
            parts.removeLast()
            // A ReplicaSet's pod: the pod template's hash before the suffix.
            if parts.count >= 2, let hash = parts.last, hash.count >= 6, hash.count <= 10, isGeneratedSuffix(hash) {
                parts.removeLast()
            }
        }
        return parts.joined(separator: "-")
    }

    /// The kubelet's random suffixes: lowercase consonants and digits, never a vowel.
    static func isGeneratedSuffix(_ text: Substring) -> Bool {
        (5...10).contains(text.count) && text.allSatisfy { ("a"..."z").contains($0) || $0.isNumber }
            && !text.contains(where: { "aeiou".contains($0) })
    }
}
