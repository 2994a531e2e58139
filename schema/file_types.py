"""Uploaded files, in codecamp's shape (``FileManager``), and where browsers fetch them."""

from __future__ import annotations

from datetime import datetime

import strawberry

from schema.context import Info
from services import models
from services.files import FileService


def file_service(info: Info) -> FileService:
    files = info.context.services.files
    assert files is not None, "api.app builds the file service"
    return files


@strawberry.type(description="올린 파일. 이미지 주소는 fetchFileConfig의 publicBase + url 입니다.")
class FileManager:
    id: strawberry.ID = strawberry.field(name="_id")
    url: str
    size: float | None
    is_used: bool
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None

    @classmethod
    def from_model(cls, f: models.FileUpload) -> "FileManager":
        return cls(
            id=strawberry.ID(f.id), url=f.url, size=float(f.size), is_used=f.is_used,
            created_at=f.created_at, updated_at=f.updated_at, deleted_at=f.deleted_at,
        )


@strawberry.type(description="이미지 주소를 만드는 데 필요한 설정")
class FileConfig:
    public_base: str = strawberry.field(description="이미지 주소 = publicBase + FileManager.url")
    max_bytes: int = strawberry.field(description="uploadFile이 받는 파일의 최대 크기 (바이트)")


@strawberry.type
class FileQueries:
    @strawberry.field(description="올린 이미지를 브라우저에서 보여 줄 주소의 기준(publicBase)과 최대 크기")
    def fetch_file_config(self, info: Info) -> FileConfig:
        config = file_service(info).config
        return FileConfig(public_base=config.public_base, max_bytes=config.max_bytes)
