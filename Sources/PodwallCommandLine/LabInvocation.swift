import Foundation

/// How `podwall-lab` was reached: `podwall demo` and `podwall eval` exec it
/// with this set, so its usage and help name the command the user typed.
public enum LabInvocation {
    public static let environmentKey = "PODWALL_LAB_INVOKED_AS"

    public static var commandName: String {
        ProcessInfo.processInfo.environment[environmentKey] ?? "podwall-lab"
    }
}
