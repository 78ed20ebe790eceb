import Foundation
import Hummingbird
import Imaging
import Pipeline

extension SuperresServer {
    /// `POST /api/v1/inspect`: what an upload carries (format, size, colour profile, EXIF, XMP, resolution, pages) and
    /// what its result would keep, update or drop with `metadata=keep` and with `metadata=strip`, for the query's
    /// model, size, format and colour. Reads only the upload's header and metadata, no pixels; takes no queue place.
    func inspect(_ request: Request) async throws(ServiceError) -> Response {
        let parameters = try UpscaleParameters(request.uri.queryParameters)
        let model = try models.select(name: parameters.model, request: parameters.request)
        let upload = try await readUpload(request)
        let (input, output) = try Self.sizes(of: upload, model: model, parameters: parameters)
        let bytes = upload.bytes
        let metadata: ImageMetadata = await io.run { ImageMetadata(reading: bytes) }
        // The pixels are not decoded: a grey profile stands for grey pixels, anything else for colour.
        let layout: PixelLayout = metadata.iccProfile?.colourSpace == "GRAY" ? .grey : .rgb
        func report(strip: Bool) -> [String] {
            let policy = MetadataPolicy(strip: strip, colour: ColourPolicy(mode: parameters.colour))
            let result = metadata.enlarged(
                from: input.width,
                input.height,
                to: output.width,
                output.height,
                layout: layout,
                policy: policy
            )
            return metadata.report(
                output: result,
                format: parameters.format,
                width: output.width,
                height: output.height
            )
        }
        struct Inspection: Encodable {
            var format: String
            var width: Int
            var height: Int
            var pages: Int
            var colourProfile: String?
            var summary: [String]
            var keep: [String]
            var strip: [String]
        }
        return Self.json(
            Inspection(
                format: upload.header.format.rawValue,
                width: input.width,
                height: input.height,
                pages: metadata.pageCount,
                colourProfile: metadata.iccProfile?.displayName,
                summary: metadata.summary,
                keep: report(strip: false),
                strip: report(strip: true)
            )
        )
    }
}
