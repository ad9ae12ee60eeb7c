// Where things are, from the compiled helpers (build/test/helpers) back to the checkout.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root (build/test/helpers -> ../../..). */
export const REPO = join(here, "..", "..", "..");
/** The tools' JavaScript entries, which `node` runs (the README's first command does). */
export const BIN = { sysjail: join(REPO, "bin", "sysjail.js"), jail: join(REPO, "bin", "jail.js") } as const;
/** The commands as package.json `bin` names them: the helper's native front (native/src/front.c). */
export const FRONT = { sysjail: join(REPO, "native", "build", "sysjail"), jail: join(REPO, "native", "build", "jail") } as const;
/** The compiled registry module (for `new Registry(dir).list()`). */
export const REGISTRY_MODULE = join(REPO, "build", "src", "registry", "store.js");
