"""POST /agents/upload and /agents/upload-directory: what is stored, what is refused."""

import io
import os
import zipfile
from pathlib import Path

import pytest
import redis

from tests.backend.zips import AGENT_FILES, make_zip


def upload(client, data: bytes, name: str = "demo", **form):
    return client.post(
        "/api/v1/agents/upload",
        data={"agent_name": name, **form},
        files={"file": ("agent.zip", data, "application/zip")},
    )


def stored_files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() or p.is_symlink()}


def test_valid_zip_is_extracted_under_agent_and_upload_id(client, backend_settings):
    response = upload(client, make_zip(AGENT_FILES))

    assert response.status_code == 201, response.text
    body = response.json()
    path = Path(body["agent_path"])
    assert path == backend_settings.uploads_dir / "demo" / body["upload_id"]
    assert stored_files(path) == set(AGENT_FILES)
    assert (path / "src/app.py").read_text() == AGENT_FILES["src/app.py"]
    # Nothing half-written is left beside it.
    assert os.listdir(path.parent) == [body["upload_id"]]
    assert path.stat().st_mode & 0o777 == 0o755  # readable by the worker whatever its user


def test_single_top_level_folder_is_unwrapped(client):
    response = upload(client, make_zip({f"demo/{k}": v for k, v in AGENT_FILES.items()}))

    assert response.status_code == 201, response.text
    assert stored_files(Path(response.json()["agent_path"])) == set(AGENT_FILES)


def test_upload_is_listed_with_its_status_document(client):
    upload_id = upload(client, make_zip(AGENT_FILES)).json()["upload_id"]

    uploads = client.get("/api/v1/user/upload-agents").json()["uploads"]

    assert [(u["upload_id"], u["agent_name"], u["status"], u["upload_type"]) for u in uploads] == [
        (upload_id, "demo", "uploaded", "zip")
    ]


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("../x", "'..'"),
        ("src/../../x", "'..'"),
        ("/etc/cron.d/x", "absolute path"),
        ("C:/windows/x", "absolute path"),
    ],
)
def test_entries_leaving_the_folder_are_refused_and_nothing_is_written(
    client, backend_settings, tmp_path, entry, expected
):
    response = upload(client, make_zip({**AGENT_FILES, entry: "owned"}))

    assert response.status_code == 400
    assert expected in response.json()["detail"]
    assert not (tmp_path / "x").exists()
    assert stored_files(backend_settings.uploads_dir) == set()


@pytest.mark.parametrize("target", ["../../../../etc/passwd", "/etc/passwd", "../.."])
def test_symlink_entry_pointing_outside_is_refused(client, backend_settings, target):
    response = upload(client, make_zip(AGENT_FILES, links={"src/secret": target}))

    assert response.status_code == 400
    assert "src/secret" in response.json()["detail"]
    assert stored_files(backend_settings.uploads_dir) == set()


def test_chain_of_links_escaping_the_folder_is_refused(client, backend_settings):
    # Each link alone looks harmless; together `y` is the folder's parent.
    response = upload(client, make_zip(AGENT_FILES, links={"x": ".", "y": "x/.."}))

    assert response.status_code == 400
    assert "'y'" in response.json()["detail"]


def test_symlink_staying_inside_the_folder_is_kept(client):
    response = upload(client, make_zip(AGENT_FILES, links={"main.py": "src/app.py"}))

    assert response.status_code == 201, response.text
    link = Path(response.json()["agent_path"]) / "main.py"
    assert link.is_symlink() and link.read_text() == AGENT_FILES["src/app.py"]


def test_too_many_entries_is_refused_with_413(client, backend_settings):
    files = {f"src/f{i}.py": "" for i in range(backend_settings.max_upload_entries + 1)}

    response = upload(client, make_zip(files))

    assert response.status_code == 413
    assert "entries" in response.json()["detail"]


def test_upload_larger_than_the_limit_is_refused_with_413(client, backend_settings):
    noise = os.urandom(backend_settings.max_upload_bytes + 1024)  # incompressible

    response = upload(client, make_zip({**AGENT_FILES, "blob.bin": noise}))

    assert response.status_code == 413
    assert "MAX_UPLOAD_MB" in response.json()["detail"]


def test_zip_expanding_beyond_the_limit_is_refused_with_413(client, backend_settings):
    bomb = b"\0" * (backend_settings.max_upload_bytes * 3)  # compresses to a few KB

    response = upload(client, make_zip({**AGENT_FILES, "zeros.bin": bomb}))

    assert response.status_code == 413
    assert "expands" in response.json()["detail"]


def test_file_that_is_not_a_zip_is_refused(client):
    response = upload(client, b"definitely not a zip")

    assert response.status_code == 400
    assert "not a zip" in response.json()["detail"]


@pytest.mark.parametrize(
    "name", ["WeatherAgent", "my agent", "agent-", "_private", "redis", "nasiko-backend", ""]
)
def test_invalid_or_reserved_agent_name_is_refused_with_422(client, backend_settings, name):
    response = upload(client, make_zip(AGENT_FILES), name=name)

    assert response.status_code == 422
    assert repr(name) in response.json()["detail"]
    assert stored_files(backend_settings.uploads_dir) == set()


def test_upload_with_deploy_queues_a_deployment_of_that_upload(client, backend_settings):
    body = upload(client, make_zip(AGENT_FILES), deploy="true").json()

    assert body["status"] == "queued"
    assert body["events_url"].startswith("/api/v1/orchestration/events/demo")
    [(_, fields)] = redis.Redis.from_url(backend_settings.redis_url, decode_responses=True).xrange(
        "orchestration:commands"
    )
    assert (fields["agent_path"], fields["upload_id"], fields["upload_type"]) == (
        body["agent_path"],
        body["upload_id"],
        "zip",
    )


def test_directory_under_an_allowed_root_is_snapshotted(client, tmp_path):
    source = tmp_path / "shared" / "demo"
    for name, content in AGENT_FILES.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text(content)

    response = client.post(
        "/api/v1/agents/upload-directory", json={"agent_name": "demo", "directory": str(source)}
    )

    assert response.status_code == 201, response.text
    copy = Path(response.json()["agent_path"])
    assert stored_files(copy) == set(AGENT_FILES)
    # A snapshot: later edits of the original do not reach the stored copy.
    (source / "src/app.py").write_text("changed")
    assert (copy / "src/app.py").read_text() == AGENT_FILES["src/app.py"]


def test_directory_outside_the_allowed_roots_is_refused(client, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()

    response = client.post(
        "/api/v1/agents/upload-directory", json={"agent_name": "demo", "directory": str(outside)}
    )

    assert response.status_code == 400
    assert "ALLOWED_AGENT_ROOTS" in response.json()["detail"]


def test_directory_with_a_link_leaving_it_is_refused(client, tmp_path):
    source = tmp_path / "shared" / "demo"
    source.mkdir(parents=True)
    (source / "Dockerfile").write_text("FROM python:3.12-slim\n")
    (source / "passwd").symlink_to("/etc/passwd")

    response = client.post(
        "/api/v1/agents/upload-directory", json={"agent_name": "demo", "directory": str(source)}
    )

    assert response.status_code == 400
    assert "'passwd'" in response.json()["detail"]


def _corrupt_crc(archive: bytes, name: str) -> bytes:
    """Flip one byte of `name`'s stored data: the CRC check fails on extraction."""
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        info = zf.getinfo(name)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    return archive[:start] + bytes([archive[start] ^ 0xFF]) + archive[start + 1 :]


def test_a_corrupt_entry_is_refused_with_400_not_a_server_error(client, backend_settings):
    archive = make_zip({**AGENT_FILES, "data.txt": "x" * 1000})

    response = upload(client, _corrupt_crc(archive, "data.txt"))

    assert response.status_code == 400, response.text
    assert "cannot be extracted" in response.json()["detail"]
    assert not any(backend_settings.uploads_dir.glob("demo/*")), "nothing is kept"


def test_entries_that_clash_file_and_folder_are_refused_with_400(client):
    response = upload(client, make_zip({**AGENT_FILES, "x": "a file", "x/y": "and a folder of the same name"}))

    assert response.status_code == 400, response.text
    assert "clash" in response.json()["detail"]
