export { PopKey, derivePopKey } from './key';
export { signRequest, type PopHeaders, type RequestToSign } from './sign';
export {
  MemoryReplayCache,
  PopVerifier,
  type HeaderBag,
  type PopVerifierOptions,
  type ReplayCache,
  type RequestToVerify,
} from './verifier';
