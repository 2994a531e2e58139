/// <reference types="vite/client" />

interface ImportMetaEnv {
  readonly VITE_POINTCHARGE_API_URL?: string;
  readonly VITE_IAMPORT_SDK_URL: string;
}
