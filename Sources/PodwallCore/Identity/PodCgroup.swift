/// Kubernetes pod identity from what the node shows: a process's cgroup
/// path names its pod's UID (`kubepods…/pod<UID>`), and the kubelet's pod
/// list maps UIDs to namespace/name.
public enum PodCgroup {
    /// The pod UID in a /proc/PID/cgroup file, for both cgroup drivers:
    /// cgroupfs (`/kubepods/burstable/pod0b3c…-…/<container>`) and systemd
    /// (`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0b3c…_….slice/…`).
    public static func podUID(cgroupFile text: String) -> String? {
        for line in text.split(separator: "\n") {
            guard let path = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).last,
                path.contains("kubepods")
            else { continue }
            for component in path.split(separator: "/") {
                if let uid = uid(inComponent: component) { return uid }
            }
        }
        return nil
    }

    private static func uid(inComponent component: Substring) -> String? {
        var candidate: Substring
        if component.hasPrefix("pod") {
            candidate = component.dropFirst(3)  // cgroupfs
        } else if component.hasPrefix("kubepods"), component.hasSuffix(".slice"),
            let last = component.dropLast(".slice".count).split(separator: "-").last, last.hasPrefix("pod")
        {
            candidate = last.dropFirst(3)  // systemd: dashes became underscores
        } else {
            return nil
        }
        let uid = String(candidate.map { $0 == "_" ? "-" : $0 }).lowercased()
        candidate = Substring(uid)
        return isUID(uid) ? uid : nil
    }

    /// 8-4-4-4-12 hex digits.
    static func isUID(_ text: String) -> Bool {
        let groups = text.split(separator: "-", omittingEmptySubsequences: false)
        return groups.map(\.count) == [8, 4, 4, 4, 12] && groups.allSatisfy { $0.allSatisfy(\.isHexDigit) }
    }
}
