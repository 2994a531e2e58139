// The market's small helpers: where an uploaded image is served, and what may be uploaded.

/** An uploaded file's browser URL is fetchFileConfig.publicBase + its url; an absolute URL (an
 * item created elsewhere with a picture on the web) is used as it is. */
export function imageUrl(publicBase: string | undefined, url: string | null | undefined): string | undefined {
  if (!url) return undefined;
  if (/^https?:\/\//.test(url)) return url;
  if (publicBase === undefined) return undefined;
  return publicBase.replace(/\/$/, "") + "/" + url.replace(/^\//, "");
}

export const IMAGE_TYPES = "image/png,image/jpeg,image/gif,image/webp";

export const megabytes = (bytes: number) => `${Math.round((bytes / 1024 / 1024) * 10) / 10}MB`;
