/**
 * Public types of the Entra ID + App Service managed-identity emulator (re-exported by `emulator/index.ts`), kept by
 * area: the registration and its user (`registration-types.ts`), fault injection (`fault-types.ts`), and the running
 * emulator's API (`running-types.ts`). The handlers' internal view of the emulator, {@link EmulatorContext}, is here.
 */
import type { EmulatorFaults, IdTokenMode } from "./fault-types";
import type { SigningKeys } from "./keys";
import type { EmulatorRegistration } from "./registration-types";
import type { EmulatorStats } from "./running-types";

export type * from "./fault-types";
export type * from "./registration-types";
export type * from "./running-types";

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
