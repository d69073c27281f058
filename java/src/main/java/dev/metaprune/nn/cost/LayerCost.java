package dev.metaprune.nn.cost;

/**
 * The cost of one counted layer (a convolution, its batch norm folded into the same row, or the classifier).
 *
 * @param name      the operation name, e.g. {@code "block3.dw"}
 * @param type      {@code "conv"} (with kind), or {@code "fc"}
 * @param geometry  readable geometry, e.g. {@code "96->96 k3x3 s2x2 p1x1 g96"}, or {@code "1280->1000"}
 * @param outHeight output height (1 for the FC)
 * @param outWidth  output width (1 for the FC)
 * @param macs      multiply-adds
 * @param weightParams conv / FC weights (+ FC bias)
 * @param bnParams  the following batch norm's gamma and beta (2 x channels), 0 for the FC
 */
public record LayerCost(String name, String type, String geometry, int outHeight, int outWidth, long macs,
                        long weightParams, long bnParams) {
    /** Weights plus batch-norm parameters. */
    public long params() {
        return weightParams + bnParams;
    }
}
