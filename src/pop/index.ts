export { derivePopKey, PopKey } from './key';
export { type PopHeaders, type RequestToSign, type RequestToSignRfc9421, type Rfc9421Headers, signRequest, signRequestRfc9421 } from './sign';
export {
  type HeaderBag,
  MemoryReplayCache,
  type PopSignatureForm,
  PopVerifier,
  type PopVerifierOptions,
  type ReplayCache,
  type RequestToVerify,
} from './verifier';
