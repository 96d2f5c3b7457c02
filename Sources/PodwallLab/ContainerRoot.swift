import Foundation

/// What a lab container's root holds.
public enum ContainerRoot: Sendable {
    /// Read-only and empty but for the host's /usr and /etc/alternatives
    /// (bound read-only), a tmpfs /tmp and the writable /shared.
    case readOnly
    /// Writable, with the files of a node image that attacks go for: the
    /// accounts (/etc/passwd, /etc/shadow, /etc/group: root and an app
    /// user), root's /root/.ssh/authorized_keys, a service-account token laid
    /// out as the kubelet projects it, an app config at /etc/app/app.conf,
    /// /var/log, and a writable /usr/local (a bundle directory bound over
    /// the host's, which the container's /usr otherwise shows read-only).
    case writable
}

extension ContainerRoot {
    /// Where the kubelet mounts a pod's service-account token.
    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// The bundle directory bound at /usr/local of a writable root.
    static func usrLocal(bundle: String) -> String { bundle + "/usr-local" }

    /// The binds this root adds to the container's (host path, container path, read-only).
    func binds(bundle: String) -> [(String, String, Bool)] {
        self == .writable ? [(Self.usrLocal(bundle: bundle), "/usr/local", false)] : []
    }

    /// Writes a writable root's files into `rootfs` (nothing for a read-only one).
    func populate(rootfs: String, bundle: String) throws {
        guard self == .writable else { return }
        for directory in ["etc/app", "var/log", "root/.ssh", "opt", Self.usrLocal(bundle: bundle) + "/bin"] {
            let path = directory.hasPrefix("/") ? directory : rootfs + "/" + directory
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        let files: [(String, String, Int)] = [
            ("etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n", 0o644),
            ("etc/shadow", "root:*:20000:0:99999:7:::\napp:!:20000:0:99999:7:::\n", 0o640),
            ("etc/group", "root:x:0:\napp:x:1000:\n", 0o644),
            ("root/.ssh/authorized_keys", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOperatorsKeyForTheLab ops@lab\n", 0o600),
            ("etc/app/app.conf", "log_level: info\ncache: /tmp/cache\n", 0o644)
        ]
        for (path, contents, mode) in files {
            try write(contents, to: rootfs + "/" + path, mode: mode)
        }
        try populateServiceAccount(rootfs + Self.serviceAccountDirectory)
    }

    /// The kubelet's atomic writer: the files in a timestamped directory,
    /// `..data` linking to it, and each name linking through `..data`.
    private func populateServiceAccount(_ directory: String) throws {
        let version = "..2026_12_05_00_00_00.000000001"
        try FileManager.default.createDirectory(atPath: directory + "/" + version, withIntermediateDirectories: true)
        let files = [
            ("token", "eyJhbGciOiJSUzI1NiIsImtpZCI6ImxhYiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6bGFiOmFwcCJ9.lab"),
            ("namespace", "lab"), ("ca.crt", "-----BEGIN CERTIFICATE-----\nlab\n-----END CERTIFICATE-----\n")
        ]
        for (name, contents) in files {
            try write(contents, to: directory + "/" + version + "/" + name, mode: 0o644)
            try FileManager.default.createSymbolicLink(atPath: directory + "/" + name, withDestinationPath: "..data/" + name)
        }
        try FileManager.default.createSymbolicLink(atPath: directory + "/..data", withDestinationPath: version)
    }

    private func write(_ contents: String, to path: String, mode: Int) throws {
        try contents.write(toFile: path, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }
}
