// Where things are, from the compiled helpers (build/test/helpers) back to the checkout.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root (build/test/helpers -> ../../..). */
export const REPO = join(here, "..", "..", "..");
/** The command-line tools. */
export const TOOLS = ["sysjail", "jail", "jls", "sjls", "jexec"] as const;
/** One of TOOLS. */
export type ToolName = (typeof TOOLS)[number];
/** The tools' JavaScript entries, which `node` runs (the README's first command does). */
export const BIN = Object.fromEntries(TOOLS.map((t) => [t, join(REPO, "bin", `${t}.js`)])) as Record<ToolName, string>;
/** The commands as package.json `bin` names them: the helper's native front (native/src/front.c). */
export const FRONT = Object.fromEntries(TOOLS.map((t) => [t, join(REPO, "native", "build", t)])) as Record<ToolName, string>;
/** The compiled registry module (for `new Registry(dir).list()`). */
export const REGISTRY_MODULE = join(REPO, "build", "src", "registry", "store.js");
