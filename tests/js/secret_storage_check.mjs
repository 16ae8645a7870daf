// Reads what the bot wrote into secret storage (JSON on stdin) and opens it with matrix-js-sdk's own
// code, then encrypts a secret for the bot to open: prints the results as JSON.
import { decodeRecoveryKey, encodeRecoveryKey } from "matrix-js-sdk/lib/crypto-api/recovery-key.js";
import decryptAESSecretStorageItem from "matrix-js-sdk/lib/utils/decryptAESSecretStorageItem.js";
import encryptAESSecretStorageItem from "matrix-js-sdk/lib/utils/encryptAESSecretStorageItem.js";
import { calculateKeyCheck } from "matrix-js-sdk/lib/secret-storage.js";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const { recoveryKey, name, payload, description, plaintext, rawKey } = JSON.parse(input);
const key = decodeRecoveryKey(recoveryKey);
const check = await calculateKeyCheck(key, description.iv);
const mine = await encryptAESSecretStorageItem(plaintext, key, name);
process.stdout.write(JSON.stringify({
    keyHex: Buffer.from(key).toString("hex"),
    decrypted: await decryptAESSecretStorageItem(payload, key, name),
    checkMac: check.mac,
    encodedByJs: encodeRecoveryKey(Buffer.from(rawKey, "hex")),
    encryptedByJs: mine,
}));
