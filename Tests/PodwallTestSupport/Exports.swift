// The packet builder lives in PodwallCore (alert captures use it too); tests
// keep getting it from here.
@_exported import struct PodwallCore.PacketBuilder
