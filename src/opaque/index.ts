export { OpaqueClient, type OpaqueClientOptions } from './client';
export { login, registration, type SuiteOption } from './flows';
export {
  ClientLoginState,
  ClientRegistrationState,
  ServerLoginState,
  ServerRegistration,
  ServerSetup,
} from './objects';
export { OpaqueServer } from './server';
export * from './types';
