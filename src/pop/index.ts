export { derivePopKey, PopKey } from './key';
export { type PopHeaders, type RequestToSign, signRequest } from './sign';
export {
  type HeaderBag,
  MemoryReplayCache,
  PopVerifier,
  type PopVerifierOptions,
  type ReplayCache,
  type RequestToVerify,
} from './verifier';
