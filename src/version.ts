// The package version, kept in step with package.json by the test suite.
/** sysjail's version. */
export const VERSION = "0.1.0";
