"""The platform's stored files: one storage service and one attachment shape for every owner."""

import hashlib
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404

from aips.center.incidents.models import Attachment
from aips.center.inquiries.models import InquiryAttachment
from aips.core.errors import ValidationFailed
from aips.shared.files import services
from aips.shared.files.models import StoredFile
from aips.shared.files.web import download_response


def test_r57_3_2_upload_is_stored_once_under_its_sha256(db: None) -> None:
    body = b"indicator list\n"
    first = services.stored_fields(SimpleUploadedFile("iocs.txt", body, "text/plain"))
    again = services.stored_fields(SimpleUploadedFile("copy.TXT", body, "text/plain"))
    digest = hashlib.sha256(body).hexdigest()
    assert first == {
        "file_name": "iocs.txt",
        "content_type": "text/plain",
        "size": len(body),
        "sha256": digest,
        "scan_status": "clean",
    }  # fmt: skip (conftest: clean)
    assert again["sha256"] == digest
    path = services.attachment_path(digest)
    assert path.read_bytes() == body
    assert path.parent.name == digest[:2]
    # Only the stored file and nothing left over from the temporary write.
    assert [p.name for p in path.parent.iterdir()] == [digest]
    assert [p for p in services.storage_dir().iterdir() if p.is_file()] == []


def test_r57_28_2_upload_name_is_only_the_base_name(db: None) -> None:
    fields = services.stored_fields(SimpleUploadedFile("../../etc/report.pdf", b"%PDF-1.4"))
    assert fields["file_name"] == "report.pdf"
    assert fields["content_type"] == "text/plain"  # SimpleUploadedFile's default


@pytest.mark.parametrize("name", ["run.exe", "page.html", "noext", "script.PY"])
def test_r57_28_2_refused_types_are_a_field_error(name: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.store_upload(SimpleUploadedFile(name, b"x"))
    assert set(caught.value.fields) == {"file"}


def test_r57_28_2_size_is_checked_on_the_bytes_received(monkeypatch: Any) -> None:
    monkeypatch.setattr(services, "MAX_ATTACHMENT_BYTES", 10)
    upload = SimpleUploadedFile("big.txt", b"x" * 11)
    upload.size = 1  # a client can declare any size
    with pytest.raises(ValidationFailed) as caught:
        services.store_upload(upload)
    assert set(caught.value.fields) == {"file"}
    assert [p for p in services.storage_dir().rglob("*") if p.is_file()] == []


def test_every_owner_shares_the_stored_file_shape() -> None:
    shared = {f.name for f in StoredFile._meta.get_fields()}
    for model in (Attachment, InquiryAttachment):
        assert issubclass(model, StoredFile)
        assert shared <= {f.name for f in model._meta.get_fields()}
        assert model._meta.ordering == ["id"]


def test_download_of_missing_bytes_is_404_and_not_audited(db: None) -> None:
    served: list[bool] = []
    services.content_scan_for("0" * 64)  # scanned clean (conftest), then the bytes were lost
    missing = Attachment(file_name="gone.pdf", sha256="0" * 64)
    with pytest.raises(Http404):
        download_response(missing, served=lambda: served.append(True))
    assert served == []


def test_download_is_a_sandboxed_attachment(db: None) -> None:
    fields = services.stored_fields(SimpleUploadedFile("page.txt", b"<script>x</script>"))
    served: list[bool] = []
    response = download_response(
        Attachment(file_name=fields["file_name"], sha256=fields["sha256"]),
        served=lambda: served.append(True),
    )
    assert served == [True]
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert response["X-Content-Type-Options"] == "nosniff"
    response.close()
