export { OpaqueClient, type OpaqueClientOptions } from './client';
export { OpaqueServer } from './server';
export { login, registration, type SuiteOption } from './flows';
export {
  ClientLoginState,
  ClientRegistrationState,
  ServerLoginState,
  ServerRegistration,
  ServerSetup,
} from './objects';
export * from './types';
