from __future__ import annotations

import strawberry
from strawberry.file_uploads import Upload

from schema.context import Info
from schema.file_types import FileManager, file_service
from schema.permissions import IsAuthenticated, LiveSession, UploadRateLimit
from services.errors import Code, DomainError


@strawberry.type
class UploadFileMutation:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated, LiveSession, UploadRateLimit],
        description="이미지(JPEG, PNG, WebP, GIF)를 올립니다 (GraphQL multipart 요청). 위치 정보 등 메타데이터는 지워집니다.",
    )
    async def upload_file(self, info: Info, file: Upload) -> FileManager:
        if not callable(getattr(file, "read", None)):
            # An inline value ("x") in a JSON request: Upload accepts any literal, only a file part is one.
            raise DomainError(Code.BAD_USER_INPUT, "파일은 multipart 요청의 파일 파트로 보내야 합니다.", field="file")
        row = await file_service(info).upload(info.context.require_user_id(), file)  # type: ignore[arg-type]
        return FileManager.from_model(row)
