// The version this build reports (PeerHello `hypha/<version>`, --version), from package.json.
import pkg from '../../package.json' with { type: 'json' };

export const HYPHA_VERSION: string = pkg.version;
