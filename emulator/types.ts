/**
 * Public types of the Entra ID + App Service managed-identity emulator (re-exported by `emulator/index.ts`), kept by
 * area: the registration and its user (`registrationTypes.ts`), fault injection (`faultTypes.ts`), and the running
 * emulator's API (`runningTypes.ts`). The handlers' internal view of the emulator, {@link EmulatorContext}, is here.
 */
import type { EmulatorFaults, IdTokenMode } from "./faultTypes";
import type { SigningKeys } from "./keys";
import type { EmulatorRegistration } from "./registrationTypes";
import type { EmulatorStats } from "./runningTypes";

export type * from "./faultTypes";
export type * from "./registrationTypes";
export type * from "./runningTypes";

/**
 * What request handlers need from the running emulator. Internal: the public surface is {@link RunningEmulator}.
 * @internal
 */
export interface EmulatorContext {
  readonly instance: string;
  readonly tenantId: string;
  readonly issuer: string;
  readonly identityHeader: string;
  readonly registration: EmulatorRegistration;
  readonly faults: EmulatorFaults;
  readonly idTokenMode: IdTokenMode;
  readonly stats: EmulatorStats;
  readonly keys: SigningKeys;
  readonly tokenLifetimeSeconds: number;
  readonly accessTokenLifetimeSeconds: number;
}
