// The AWS SDK warns once per process that releases after January 2027 need Node 22; the machines
// run Node 20 (the Lambda runtime is nodejs22.x), so the warning is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
