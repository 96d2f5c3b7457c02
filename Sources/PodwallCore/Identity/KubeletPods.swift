/// The kubelet's pod list (`GET /pods`), reduced to what alerts need.
public enum KubeletPods {
    /// Pod UID → "namespace/name" from the kubelet's JSON (a PodList).
    public static func names(podListJSON text: String) -> [String: String]? {
        guard case .object(let list)? = try? JSONReader.parse(text), case .array(let items)? = list["items"] else { return nil }
        var names: [String: String] = [:]
        for case .object(let pod) in items {
            guard case .object(let metadata)? = pod["metadata"], case .string(let uid)? = metadata["uid"],
                case .string(let name)? = metadata["name"]
            else { continue }
            let namespace: String = if case .string(let value)? = metadata["namespace"] { value } else { "default" }
            names[uid.lowercased()] = namespace + "/" + name
        }
        return names
    }
}
