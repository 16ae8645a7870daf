// A Matrix client built on Element's own crypto (matrix-js-sdk + the Rust crypto compiled to wasm),
// driven by the Python tests over stdin/stdout: one JSON request per line in, one JSON answer per
// line out ({"id", "ok", "result"|"error"}), plus unsolicited {"event": …} lines.
//
// It is the independent judge of the bot's encryption: it decides, with the code Element runs,
// whether the bot's device is signed by its owner, whether a reply can be decrypted and which shield
// it would carry, and it runs SAS verification against the bot.

import * as readline from "node:readline";

import * as sdk from "matrix-js-sdk";
import { logger } from "matrix-js-sdk/lib/logger.js";
import { decodeRecoveryKey } from "matrix-js-sdk/lib/crypto-api/recovery-key.js";
import {
    AllDevicesIsolationMode,
    CryptoEvent,
    OnlySignedDevicesIsolationMode,
    VerificationPhase,
    VerificationRequestEvent,
    VerifierEvent,
} from "matrix-js-sdk/lib/crypto-api/index.js";

logger.setLevel(process.env.ELEMENT_CLIENT_LOG || "silent");
// stdout carries the protocol only: whatever the SDK (or the Rust crypto's tracing) prints goes to stderr,
// and only when ELEMENT_CLIENT_LOG is set.
for (const name of ["log", "debug", "info", "warn", "error", "trace"]) {
    console[name] = (...args) => {
        if (process.env.ELEMENT_CLIENT_LOG) process.stderr.write(args.map(String).join(" ") + "\n");
    };
}

let client = null;
let password = null;
let recoveryKey = null;
const events = new Map(); // event id → MatrixEvent, every timeline event seen
const sasWaiting = new Map(); // verification label → ShowSasCallbacks
let changed = null;
let changedResolve = null;

function newChange() {
    changed = new Promise((resolve) => (changedResolve = resolve));
}
newChange();
function poke() {
    const resolve = changedResolve;
    newChange();
    resolve();
}

function emit(obj) {
    process.stdout.write(JSON.stringify(obj) + "\n");
}

async function waitUntil(predicate, timeoutMs, what) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const value = await predicate();
        if (value) return value;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await Promise.race([changed, new Promise((r) => setTimeout(r, Math.min(left, 250)))]);
    }
}

function passwordAuth(userId) {
    return async (makeRequest) => {
        await makeRequest({ type: "m.login.password", identifier: { type: "m.id.user", user: userId }, password });
    };
}

async function login({ baseUrl, user, password: pw, deviceName, recoveryKey: rk }) {
    password = pw;
    recoveryKey = rk || null;
    const bare = sdk.createClient({ baseUrl });
    const auth = await bare.loginRequest({
        type: "m.login.password",
        identifier: { type: "m.id.user", user },
        password: pw,
        initial_device_display_name: deviceName || "element-test",
    });
    client = sdk.createClient({
        baseUrl,
        userId: auth.user_id,
        accessToken: auth.access_token,
        deviceId: auth.device_id,
        cryptoCallbacks: {
            getSecretStorageKey: async ({ keys }) => {
                if (!recoveryKey) return null;
                const keyId = Object.keys(keys)[0];
                return [keyId, decodeRecoveryKey(recoveryKey)];
            },
        },
    });
    await client.initRustCrypto({ useIndexedDB: false });
    client.on(sdk.RoomEvent.Timeline, (event) => {
        events.set(event.getId(), event);
        event.once(sdk.MatrixEventEvent.Decrypted, poke);
        poke();
    });
    client.on(sdk.RoomMemberEvent.Membership, poke);
    client.on(CryptoEvent.VerificationRequestReceived, (request) => {
        emit({ event: "verification_request", from: request.otherUserId });
    });
    await client.startClient({ initialSyncLimit: 50 });
    await new Promise((resolve) => {
        const check = (state) => {
            if (state === "PREPARED" || state === "SYNCING") {
                client.off(sdk.ClientEvent.Sync, check);
                resolve();
            }
        };
        client.on(sdk.ClientEvent.Sync, check);
    });
    return { userId: auth.user_id, deviceId: auth.device_id };
}

async function eventView(event) {
    const crypto = client.getCrypto();
    await client.decryptEventIfNeeded(event);
    const view = {
        eventId: event.getId(),
        sender: event.getSender(),
        type: event.getType(),
        encrypted: event.isEncrypted(),
        body: event.getContent().body ?? null,
        msgtype: event.getContent().msgtype ?? null,
        content: event.getContent(),
        decryptionFailure: event.isDecryptionFailure() ? String(event.decryptionFailureReason) : null,
        shieldColour: null,
        shieldReason: null,
        senderDevice: null,
    };
    if (event.isEncrypted() && !event.isDecryptionFailure()) {
        const info = await crypto.getEncryptionInfoForEvent(event);
        if (info) {
            view.shieldColour = info.shieldColour;
            view.shieldReason = info.shieldReason;
        }
        view.senderDevice = event.getKeysClaimed ? null : null;
    }
    return view;
}

function inReplyTo(event) {
    const relates = event.getWireContent()["m.relates_to"] || event.getContent()["m.relates_to"] || {};
    return (relates["m.in_reply_to"] || {}).event_id || null;
}

const handlers = {
    login,

    async crossSign() {
        const crypto = client.getCrypto();
        await crypto.bootstrapCrossSigning({ authUploadDeviceSigningKeys: passwordAuth(client.getUserId()) });
        return { ready: await crypto.isCrossSigningReady(), masterKey: await crypto.getCrossSigningKeyId() };
    },

    async isolation({ mode, blacklistUnverified }) {
        const crypto = client.getCrypto();
        crypto.setDeviceIsolationMode(mode === "signed" ? new OnlySignedDevicesIsolationMode()
            : new AllDevicesIsolationMode(false));
        crypto.globalBlacklistUnverifiedDevices = Boolean(blacklistUnverified);
        return {};
    },

    async join({ roomId }) {
        const room = await client.joinRoom(roomId);
        await waitUntil(() => client.getRoom(room.roomId)?.getMyMembership() === "join", 30000, "the join");
        return { roomId: room.roomId };
    },

    async waitInvite({ timeoutMs }) {
        const room = await waitUntil(() => client.getRooms().find((r) => r.getMyMembership() === "invite"),
            timeoutMs || 30000, "an invite");
        return { roomId: room.roomId };
    },

    async createDM({ userId, encrypted }) {
        const initialState = encrypted === false ? [] : [{ type: "m.room.encryption", state_key: "",
            content: { algorithm: "m.megolm.v1.aes-sha2" } }];
        const { room_id: roomId } = await client.createRoom({ is_direct: true, invite: [userId], preset: "trusted_private_chat",
            initial_state: initialState });
        await waitUntil(() => client.getRoom(roomId)?.getMember(userId)?.membership === "join", 30000,
            `${userId} to join the direct chat`);
        return { roomId };
    },

    async send({ roomId, body }) {
        const { event_id: eventId } = await client.sendMessage(roomId, { msgtype: "m.text", body });
        return { eventId };
    },

    async waitReply({ eventId, timeoutMs, sender }) {
        const event = await waitUntil(async () => {
            for (const e of events.values()) {
                if (inReplyTo(e) !== eventId || (sender && e.getSender() !== sender)) continue;
                if (e.isBeingDecrypted() || e.shouldAttemptDecryption()) {
                    await client.decryptEventIfNeeded(e);
                }
                return e;
            }
            return null;
        }, timeoutMs || 30000, `a reply to ${eventId}`);
        return eventView(event);
    },

    async deviceStatus({ userId, deviceId }) {
        const crypto = client.getCrypto();
        await crypto.getUserDeviceInfo([userId], true);
        const status = await crypto.getDeviceVerificationStatus(userId, deviceId);
        return status ? { signedByOwner: status.signedByOwner, crossSigningVerified: status.crossSigningVerified,
            verified: status.isVerified() } : null;
    },

    async waitDeviceSigned({ userId, deviceId, timeoutMs }) {
        const crypto = client.getCrypto();
        return waitUntil(async () => {
            await crypto.getUserDeviceInfo([userId], true);
            const status = await crypto.getDeviceVerificationStatus(userId, deviceId);
            return status && status.signedByOwner ? { signedByOwner: true } : null;
        }, timeoutMs || 30000, `${userId}'s device ${deviceId} to be signed by its owner`);
    },

    async userStatus({ userId }) {
        const crypto = client.getCrypto();
        await crypto.getUserDeviceInfo([userId], true);
        const status = await crypto.getUserVerificationStatus(userId);
        return { verified: status.isVerified(), crossSigningVerified: status.isCrossSigningVerified() };
    },

    async masterKeyOf({ userId }) {
        // The master key as the homeserver publishes it (not what this client trusts).
        const keys = await client.downloadKeysForUsers([userId]);
        const master = (keys.master_keys || {})[userId];
        return { masterKey: master ? Object.values(master.keys)[0] : null, raw: master || null };
    },

    async restoreCrossSigning() {
        // Use the recovery key given at login to take the cross-signing keys out of secret storage,
        // as Element does on a new session of the same account.
        const crypto = client.getCrypto();
        // The Rust crypto imports private keys only once it knows the public identity they belong to.
        await waitUntil(() => crypto.userHasCrossSigningKeys(client.getUserId(), true), 30000,
            "the account's published cross-signing keys");
        await crypto.bootstrapCrossSigning({});
        const status = await crypto.getCrossSigningStatus();
        return { status, masterKey: await crypto.getCrossSigningKeyId(), ready: await crypto.isCrossSigningReady() };
    },

    async verify({ userId, roomId, deviceId, label, timeoutMs }) {
        // Start a verification of userId (in the DM roomId, or with their device deviceId), wait until they
        // are ready, start SAS and report the emoji; then wait for `confirm` with the same label.
        const crypto = client.getCrypto();
        await crypto.getUserDeviceInfo([userId], true);
        const request = roomId ? await crypto.requestVerificationDM(userId, roomId)
            : await crypto.requestDeviceVerification(userId, deviceId);
        request.on(VerificationRequestEvent.Change, poke);
        await waitUntil(() => request.phase === VerificationPhase.Ready || request.phase === VerificationPhase.Cancelled,
            timeoutMs || 30000, "the other side to be ready");
        if (request.phase === VerificationPhase.Cancelled) {
            throw new Error(`cancelled: ${request.cancellationCode}`);
        }
        const verifier = await request.startVerification("m.sas.v1");
        verifier.on(VerifierEvent.ShowSas, (sas) => {
            sasWaiting.set(label, sas);
            emit({ event: "sas", label, emoji: sas.sas.emoji.map((e) => e[1]), decimals: sas.sas.decimal });
        });
        verifier.on(VerifierEvent.Cancel, poke);
        const done = verifier.verify();
        done.catch(() => {});
        label = label || "default";
        pending.set(label, { request, done });
        return { started: true, transactionId: request.transactionId ?? null };
    },

    async confirm({ label, match }) {
        const sas = await waitUntil(() => sasWaiting.get(label || "default"), 30000, "the SAS");
        if (match === false) sas.mismatch();
        else await sas.confirm();
        return {};
    },

    async verifyDone({ label, timeoutMs }) {
        const { request, done } = pending.get(label || "default");
        await Promise.race([done.catch(() => null), new Promise((_, reject) => setTimeout(() => reject(new Error("timed out")),
            timeoutMs || 30000))]);
        await waitUntil(() => request.phase === VerificationPhase.Done || request.phase === VerificationPhase.Cancelled,
            timeoutMs || 30000, "the verification to end");
        return { phase: request.phase === VerificationPhase.Done ? "done" : "cancelled",
            cancellationCode: request.cancellationCode ?? null };
    },

    async stop() {
        client?.stopClient();
        setTimeout(() => process.exit(0), 50);
        return {};
    },
};
const pending = new Map();

// Requests are answered one after another, in the order they came.
let queue = Promise.resolve();
const input = readline.createInterface({ input: process.stdin });
input.on("line", (line) => {
    queue = queue.then(() => handle(line));
});
async function handle(line) {
    if (!line.trim()) return;
    let request;
    try {
        request = JSON.parse(line);
    } catch (error) {
        emit({ ok: false, error: `not JSON: ${line}` });
        return;
    }
    const { id, cmd, ...args } = request;
    try {
        const handler = handlers[cmd];
        if (!handler) throw new Error(`unknown command ${cmd}`);
        emit({ id, ok: true, result: (await handler(args)) ?? null });
    } catch (error) {
        emit({ id, ok: false, error: String(error?.stack || error) });
    }
}
input.on("close", () => {
    client?.stopClient();
    process.exit(0);
});
