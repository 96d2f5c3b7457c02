import Foundation

/// The OCI runtime spec of a lab container: what `runc spec` writes, made
/// read-only (unless `readOnlyRoot` is false) and joined to a pod's network
/// namespace and cgroup.
struct ContainerSpec {
    var command: [String]
    var hostname: String
    var netns: String
    var cgroup: String
    var readOnlyRoot = true
    /// (host path, container path, read-only)
    var binds: [(String, String, Bool)]

    var json: String {
        let mounts: [[String: Any]] =
            [
                ["destination": "/proc", "type": "proc", "source": "proc"],
                [
                    "destination": "/dev", "type": "tmpfs", "source": "tmpfs",
                    "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]
                ],
                [
                    "destination": "/dev/pts", "type": "devpts", "source": "devpts",
                    "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]
                ],
                ["destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777"]],
                ["destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]],
                ["destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777"]]
            ]
            + binds.map { source, destination, readOnly in
                ["destination": destination, "type": "bind", "source": source, "options": ["rbind", readOnly ? "ro" : "rw"]]
            }
        let spec: [String: Any] = [
            "ociVersion": "1.0.2",
            "process": [
                "terminal": false, "user": ["uid": 0, "gid": 0], "args": command, "cwd": "/",
                "env": ["PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME=/tmp"],
                "capabilities": [
                    "bounding": Self.capabilities, "effective": Self.capabilities, "permitted": Self.capabilities
                ],
                "noNewPrivileges": true
            ],
            "root": ["path": "rootfs", "readonly": readOnlyRoot],
            "hostname": hostname,
            "mounts": mounts,
            "linux": [
                "cgroupsPath": cgroup,
                "namespaces": [
                    ["type": "pid"], ["type": "ipc"], ["type": "uts"], ["type": "mount"],
                    ["type": "network", "path": netns]
                ],
                "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
                "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
            ]
        ]
        let data = try! JSONSerialization.data(withJSONObject: spec, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    /// What containerd gives a container by default, less the ones a test needs not.
    static let capabilities = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETGID", "CAP_SETUID"
    ]
}
