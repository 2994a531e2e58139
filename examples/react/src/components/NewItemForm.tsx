import { type ChangeEvent, type FormEvent, useRef, useState } from "react";
import { useNavigate } from "react-router-dom";
import { useMutation, useQuery } from "@apollo/client/react";
import { describe } from "../errors";
import { IMAGE_TYPES, megabytes } from "../market";
import { useNotify } from "../notice";
import { CREATE_ITEM, FILE_CONFIG, UPLOAD_FILE } from "../operations";
import { FieldError } from "./FieldError";
import { NoticeLine } from "./NoticeLine";

type Field = "name" | "remarks" | "contents" | "price" | "images";
type Errors = Partial<Record<Field, string>>;
const FIELDS: readonly string[] = ["name", "remarks", "contents", "price", "images"];

/** A new item: its photo goes up first (uploadFile, multipart), then createUseditem with its url. */
export function NewItemForm() {
  const notify = useNotify();
  const navigate = useNavigate();
  const maxBytes = useQuery(FILE_CONFIG).data?.fetchFileConfig.maxBytes;
  const [upload] = useMutation(UPLOAD_FILE);
  const [create] = useMutation(CREATE_ITEM);
  const [values, setValues] = useState({ name: "", remarks: "", contents: "", price: "" });
  const [photo, setPhoto] = useState<File | null>(null);
  const [errors, setErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);
  const inFlight = useRef(false);

  function edit(field: Exclude<Field, "images">) {
    return (e: ChangeEvent<HTMLInputElement | HTMLTextAreaElement>) => {
      setValues((v) => ({ ...v, [field]: e.target.value }));
      setErrors((now) => ({ ...now, [field]: undefined }));
    };
  }

  function pick(e: ChangeEvent<HTMLInputElement>) {
    const file = e.target.files?.[0] ?? null;
    setPhoto(file);
    const tooLarge = file && maxBytes && file.size > maxBytes;
    setErrors((now) => ({ ...now, images: tooLarge ? `사진은 ${megabytes(maxBytes!)}까지 올릴 수 있습니다.` : undefined }));
  }

  function missing(): Errors {
    const found: Errors = {};
    if (!values.name.trim()) found.name = "상품명을 입력해 주세요.";
    if (!values.remarks.trim()) found.remarks = "한줄요약을 입력해 주세요.";
    if (!values.contents.trim()) found.contents = "상품 설명을 입력해 주세요.";
    const price = Number(values.price);
    if (!values.price || !Number.isInteger(price) || price <= 0) found.price = "가격을 1P 이상의 정수로 입력해 주세요.";
    if (errors.images) found.images = errors.images;
    return found;
  }

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (inFlight.current) return;
    const found = missing();
    setErrors(found);
    if (Object.keys(found).length) return;
    inFlight.current = true;
    setBusy(true);
    let op = "uploadFile";
    try {
      const images: string[] = [];
      if (photo) {
        const { data } = await upload({ variables: { file: photo } });
        images.push(data!.uploadFile.url);
      }
      op = "createUseditem";
      const { data } = await create({
        variables: {
          input: {
            name: values.name.trim(),
            remarks: values.remarks.trim(),
            contents: values.contents.trim(),
            price: Number(values.price),
            images,
          },
        },
      });
      notify.show({ kind: "success", text: "상품을 등록했습니다." }, "item");
      navigate(`/market/${data!.createUseditem._id}`);
    } catch (error) {
      const { field, message } = describe(error, op);
      // The photo's failure (too large, not an image) is said at the photo; the API names the rest.
      const key = op === "uploadFile" ? "images" : field?.split(".")[0];
      if (key && FIELDS.includes(key)) {
        setErrors({ [key]: message });
        notify.show(null);
      } else {
        notify.fail(error, op, "new-item");
      }
    } finally {
      inFlight.current = false;
      setBusy(false);
    }
  }

  const invalid = (f: Field) => ({ "aria-invalid": !!errors[f], "aria-describedby": errors[f] ? `item-${f === "images" ? "photo" : f}-error` : undefined });
  return (
    <form id="new-item" className="card" noValidate onSubmit={(e) => void onSubmit(e)}>
      <h2>상품 등록</h2>
      <label>
        상품명
        <input id="item-name" maxLength={100} value={values.name} onChange={edit("name")} {...invalid("name")} />
      </label>
      <FieldError id="item-name-error" text={errors.name} />
      <label>
        한줄요약
        <input id="item-remarks" maxLength={300} value={values.remarks} onChange={edit("remarks")} {...invalid("remarks")} />
      </label>
      <FieldError id="item-remarks-error" text={errors.remarks} />
      <label>
        상품 설명
        <textarea id="item-contents" rows={3} maxLength={10000} value={values.contents} onChange={edit("contents")} {...invalid("contents")} />
      </label>
      <FieldError id="item-contents-error" text={errors.contents} />
      <label>
        가격 (P)
        <input id="item-price" type="number" inputMode="numeric" min={1} step={1} value={values.price} onChange={edit("price")} {...invalid("price")} />
      </label>
      <FieldError id="item-price-error" text={errors.price} />
      <label>
        사진 {maxBytes ? <small className="muted">(PNG·JPEG·GIF·WebP, {megabytes(maxBytes)}까지)</small> : null}
        <input id="item-photo" type="file" accept={IMAGE_TYPES} onChange={pick} {...invalid("images")} />
      </label>
      <FieldError id="item-photo-error" text={errors.images} />
      <NoticeLine place="new-item" />
      <button id="btn-create-item" type="submit" disabled={busy}>
        {busy ? "등록하는 중…" : "등록하기"}
      </button>
    </form>
  );
}
