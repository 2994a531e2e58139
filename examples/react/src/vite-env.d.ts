/// <reference types="vite/client" />

interface ImportMetaEnv {
  readonly VITE_POINTCHARGE_API_URL?: string;
  readonly VITE_IAMPORT_SDK_URL: string;
  /** Where the project's README is published (linked when a cross-site build loses the login). */
  readonly VITE_README_URL?: string;
}
