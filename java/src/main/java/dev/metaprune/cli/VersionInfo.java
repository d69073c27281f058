package dev.metaprune.cli;

import dev.metaprune.kernels.Vec;
import picocli.CommandLine;

/** Version and runtime facts, printed by {@code --version} and recorded in run folders. */
public final class VersionInfo implements CommandLine.IVersionProvider {
    public static String version() {
        String v = VersionInfo.class.getPackage().getImplementationVersion();
        return v == null ? "0.1.0-SNAPSHOT" : v;
    }

    @Override
    public String[] getVersion() {
        return new String[] {"MetaPrune " + version(), "JDK " + Runtime.version() + " (" + System.getProperty("java.vendor")
                + "), " + System.getProperty("os.arch") + ", " + Vec.describe()};
    }
}
