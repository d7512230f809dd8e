// The app's version (package.json, injected by Vite as __APP_VERSION__), recorded in every checkpoint it writes.
declare const __APP_VERSION__: string | undefined;

export const APP_VERSION: string = typeof __APP_VERSION__ === 'string' ? __APP_VERSION__ : 'dev';
