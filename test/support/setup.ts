// The AWS SDK warns once per process that future releases need Node 22; the machines run Node 20
// and the Lambda runtime is nodejs22.x, so the warning is noise in test output.
process.env.AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING ??= '1';
