package dev.metaprune.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code metaprune} command line. */
@Command(name = "metaprune", mixinStandardHelpOptions = true, versionProvider = VersionInfo.class,
        description = "MetaPruning for the JVM: train a PruningNet, search pruned widths, retrain, benchmark.",
        subcommands = {InfoCommand.class, DemoCommand.class, TrainCommand.class, SearchCommand.class, RetrainCommand.class, PruneCommand.class, ReportCommand.class, EvaluateCommand.class,
                FlopsCommand.class, ProfileCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Every command takes it, before or after the command's name. */
    @CommandLine.Option(names = "--backend", paramLabel = "NAME", scope = CommandLine.ScopeType.INHERIT,
            description = "Kernel backend: cpu (default), cuda (the GPU, tensors copied per call), cuda-resident (the"
                    + " GPU, data kept there across steps; training runs the PruningNet's generators there too),"
                    + " cuda-verify (every call on both, compared), emulated-device (the resident protocol on the"
                    + " CPU, to check code without a GPU). Same as -Dmetaprune.backend=NAME.")
    void backend(String name) {
        try {
            dev.metaprune.kernels.Kernels.select(name);
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--backend: " + e.getMessage(), e, null, name);
        }
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        int code = run(args);
        System.exit(code);
    }

    /** Runs a command line and returns its exit code (no {@code System.exit}: usable from tests). */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, line, parse) -> {
            if (ex instanceof IllegalArgumentException || ex instanceof java.io.IOException) {
                line.getErr().println("error: " + ex.getMessage());
                return 2;
            }
            if (ex instanceof dev.metaprune.train.TrainingDivergedException) {
                line.getErr().println("error: " + ex.getMessage());
                return 3;
            }
            throw ex;
        });
        return cl.execute(args);
    }
}
