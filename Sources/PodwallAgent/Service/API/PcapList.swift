import PodwallCapture

/// `GET /v1/pcaps`: every capture's summary, as its summary file holds it.
struct PcapList: APIResponseBody {
    let pcaps: [CaptureSummary]
}
