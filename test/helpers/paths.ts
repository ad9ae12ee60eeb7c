// Where things are, from the compiled helpers (build/test/helpers) back to the checkout.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root (build/test/helpers -> ../../..). */
export const REPO = join(here, "..", "..", "..");
/** The command-line tools, as package.json `bin` names them. */
export const BIN = { sysjail: join(REPO, "bin", "sysjail.js"), jail: join(REPO, "bin", "jail.js") } as const;
/** The compiled registry module (for `new Registry(dir).list()`). */
export const REGISTRY_MODULE = join(REPO, "build", "src", "registry", "store.js");
