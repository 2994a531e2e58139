import react from '@vitejs/plugin-react'
import { defineConfig, type ProxyOptions } from 'vite'

// Same site by default: the API's paths are proxied, so the browser sees one origin, the
// httpOnly refresh cookie (SameSite=Lax) is first-party and CORS never comes into play.
// /payments/result is this app's own route, so only /payments/complete goes to the API.
const api = process.env.POINTCHARGE_API_URL ?? 'http://127.0.0.1:8000'
const proxy: Record<string, ProxyOptions> = {
  '/graphql': { target: api },
  '/payments/complete': { target: api },
  '/sandbox': { target: api }, // the sandbox's SDK and checkout (sandbox mode only)
  '/files': { target: api }, // uploads, when the API's POINTCHARGE_STORAGE_PUBLIC_BASE is /files/
}

// https://vite.dev/config/
export default defineConfig({
  plugins: [react()],
  server: { proxy },
  preview: { proxy },
  // React, Apollo and the router in a chunk of their own: they change less often than the app's
  // code (a deploy keeps them cached), and together the two passed Vite's 500 kB warning.
  build: {
    rolldownOptions: { output: { codeSplitting: { groups: [{ name: 'vendor', test: /node_modules/ }] } } },
  },
})
