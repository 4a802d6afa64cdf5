/**
 * What every way of running the app locally hands back (stack.ts runs it in this process, child-app.ts as a child
 * process); its own module so the two import it without importing each other.
 */
import type { RunningEmulator } from "../emulator";

/** A running app: where it listens and how to stop it. */
export interface LaunchedApp {
  /** The origin a browser opens, e.g. http://localhost:3000. */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the app against a running emulator. */
export type AppLauncher<A extends LaunchedApp> = (emu: RunningEmulator) => Promise<A>;
