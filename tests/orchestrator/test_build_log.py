import json

import pytest

from orchestrator.build_log import BuildFailed, BuildLine, BuiltImage, parse_build_stream

ERROR = {
    "errorDetail": {"code": 1, "message": "The command '/bin/sh -c exit 3' returned a non-zero code: 3"},
    "error": "The command '/bin/sh -c exit 3' returned a non-zero code: 3",
}


def encoded(*objects) -> bytes:
    return b"".join(json.dumps(obj).encode() + b"\r\n" for obj in objects)


def split_every(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("chunk_size", [1, 3, 7, 64, 10_000])
def test_error_object_split_across_chunks_fails_the_build_with_its_message(chunk_size):
    data = encoded({"stream": "Step 1/2 : RUN exit 3\n"}, {"stream": " ---> Running in 0123\n"}, ERROR)
    seen = []
    with pytest.raises(BuildFailed, match="returned a non-zero code: 3"):
        for item in parse_build_stream(split_every(data, chunk_size)):
            seen.append(item)
    assert seen == [BuildLine("Step 1/2 : RUN exit 3"), BuildLine(" ---> Running in 0123")]


def test_error_without_detail_uses_the_error_text():
    with pytest.raises(BuildFailed, match="^no space left on device$"):
        list(parse_build_stream([encoded({"error": "no space left on device"})]))


def test_several_objects_in_one_chunk_and_a_character_split_between_chunks():
    data = encoded(
        {"stream": "Schritt 1/1 : RUN echo grüße\n"},
        {"aux": {"ID": "sha256:abc"}},
        {"stream": "Successfully built abc\n"},
    )
    data = data.replace(b"\\u00fc", "ü".encode()).replace(b"\\u00df", "ß".encode())
    cut = data.index("ü".encode()) + 1  # inside the two-byte character
    items = list(parse_build_stream([data[:cut], data[cut:]]))
    assert items == [
        BuildLine("Schritt 1/1 : RUN echo grüße"),
        BuiltImage("sha256:abc"),
        BuildLine("Successfully built abc"),
    ]


def test_a_stream_cut_off_mid_object_is_not_success():
    data = encoded({"stream": "Step 1/1 : FROM x\n"})[:-3]
    with pytest.raises(BuildFailed, match="ended in the middle of a message"):
        list(parse_build_stream([data]))


def test_terminal_colour_codes_are_stripped_from_lines_and_errors():
    chunks = [b'{"stream": "\\u001b[91mERROR: No matching distribution\\u001b[0m\\n"}',
              b'{"error": "\\u001b[91mpip failed\\u001b[0m"}']
    items = parse_build_stream(chunks)
    assert next(items) == BuildLine("ERROR: No matching distribution")
    with pytest.raises(BuildFailed, match="^pip failed$"):
        next(items)
