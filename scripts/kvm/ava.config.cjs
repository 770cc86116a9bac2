// ava configuration for the VM tests only (npm run test:kvm); the default `npm test` leaves them out.
module.exports = {
    files: ["build/test/kvm/**/*.test.js"],
    timeout: "30m",
    workerThreads: false,
};
