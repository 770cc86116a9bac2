// The renewal warning at preview, under mocks: the engine's record of the stack's last deployment
// (its builtin readStackResourceOutputs) is stood in for by the mocks' call handler, holding a
// certificate that expires in 30 minutes; the component must warn about it, naming it and that expiry,
// and stay quiet about one whose window has not opened.
import test from "ava";

const expiresSoon = new Date(Date.now() + 30 * 60_000).toISOString();
const expiresLater = new Date(Date.now() + 100 * 3600_000).toISOString();
import { installMocks } from "../helpers/mocks";
// URNs as the mock monitor makes them (the parent's type only).
installMocks({
    call: (args) => args.token === "pulumi:pulumi:readStackResourceOutputs"
        ? { outputs: {
            "urn:pulumi:test::zerotrust::zerotrust:index:IssuedCertificate$tls:index/locallySignedCert:LocallySignedCert::corp-alice-cert":
                { type: "tls:index/locallySignedCert:LocallySignedCert", outputs: { validityEndTime: expiresSoon } },
            "urn:pulumi:test::zerotrust::zerotrust:index:IssuedCertificate$tls:index/locallySignedCert:LocallySignedCert::corp-bob-cert":
                { type: "tls:index/locallySignedCert:LocallySignedCert", outputs: { validityEndTime: expiresLater } },
        } }
        : args.inputs,
});
import { InternalCA } from "../../components/internal-ca";
import { renewalNotice } from "../../components/certificate-renewal";
import { resolve } from "../helpers/mocks";

test("renewalNotice: quiet before the window opens; inside it, names the certificate, its expiry and the window", (t) => {
    const cert = { name: "corp-alice", commonName: "alice" };
    const now = new Date("2027-01-10T00:00:00Z");
    t.is(renewalNotice(cert, "2027-03-01T00:00:00Z", 720, now, true), undefined, "50 days left, the window is 30 days");
    t.is(renewalNotice(cert, undefined, 720, now, true), undefined, "a new certificate has no recorded expiry");
    const inside = renewalNotice(cert, "2027-02-01T00:00:00Z", 720, now, true)!;
    t.regex(inside, /certificate 'corp-alice' \(CN=alice\) expires at 2027-02-01T00:00:00\.000Z/);
    t.regex(inside, /inside its renewal window \(the last 720 h, since 2027-01-02T00:00:00\.000Z\): `pulumi up` reissues it/);
    t.regex(renewalNotice(cert, "2027-01-09T00:00:00Z", 720, now, false)!, /expired at 2027-01-09.*this update reissues it/);
});

test("an issued certificate inside its renewal window makes the program warn, with its expiry; one outside it does not", async (t) => {
    const warnings: string[] = [];
    const original = console.warn;
    console.warn = (m: string) => { warnings.push(m); };
    t.teardown(() => { console.warn = original; });
    const ca = new InternalCA("corp");
    const alice = ca.issueClientCertificate("alice", { validityHours: 2, earlyRenewalHours: 1 });
    const bob = ca.issueClientCertificate("bob", { validityHours: 200, earlyRenewalHours: 1 });
    await Promise.all([resolve(alice.certPem), resolve(bob.certPem)]);
    await new Promise((r) => setTimeout(r, 200)); // the warning is logged from an apply
    const aboutAlice = warnings.filter((w) => w.includes("'corp-alice'"));
    t.is(aboutAlice.length, 1, warnings.join("\n"));
    t.true(aboutAlice[0].includes(`expires at ${new Date(expiresSoon).toISOString()}`), aboutAlice[0]);
    t.regex(aboutAlice[0], /inside its renewal window \(the last 1 h/);
    t.false(warnings.some((w) => w.includes("'corp-bob'")), "bob's window opens in 99 hours");
});
