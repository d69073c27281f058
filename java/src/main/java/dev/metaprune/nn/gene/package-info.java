/**
 * MetaPruning genes ({@link dev.metaprune.nn.gene.Gene}): scale indices per gene position, text and JSON forms,
 * uniform and random genes that respect stage ties. Layouts are documented in {@link dev.metaprune.nn.arch}.
 */
package dev.metaprune.nn.gene;
