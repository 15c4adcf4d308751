package io.sksteer.bpf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class MapSpecTest {

    // ---- ARRAY and PERCPU_ARRAY --------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(value = MapType.class, names = {"ARRAY", "PERCPU_ARRAY"})
    void acceptsArrayWithFourByteKey(MapType type) {
        assertThat(MapSpec.of("arr", type, 4, 16, 8).keySize()).isEqualTo(4);
    }

    @ParameterizedTest
    @EnumSource(value = MapType.class, names = {"ARRAY", "PERCPU_ARRAY"})
    void rejectsArrayWithKeyOtherThanFourBytes(MapType type) {
        assertThatThrownBy(() -> MapSpec.of("arr", type, 8, 16, 8))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("map 'arr'")
                .hasMessageContaining(type.kernelName())
                .hasMessageContaining("4 bytes");
    }

    // ---- SOCKMAP and SOCKHASH ----------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(ints = {4, 8})
    void acceptsSockmapWithFourByteKeyAndFourOrEightByteValue(int valueSize) {
        assertThat(MapSpec.of("socks", MapType.SOCKMAP, 4, valueSize, 16).valueSize()).isEqualTo(valueSize);
    }

    @Test
    void rejectsSockmapWithEightByteKey() {
        assertThatThrownBy(() -> MapSpec.of("socks", MapType.SOCKMAP, 8, 8, 16))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("BPF_MAP_TYPE_SOCKMAP keys are 4 bytes");
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 16})
    void rejectsSockmapWithValueOtherThanFourOrEightBytes(int valueSize) {
        assertThatThrownBy(() -> MapSpec.of("socks", MapType.SOCKMAP, 4, valueSize, 16))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("BPF_MAP_TYPE_SOCKMAP values");
    }

    @Test
    void acceptsSockhashWithAnyKeySize() {
        assertThat(MapSpec.of("sockh", MapType.SOCKHASH, 12, 8, 16).keySize()).isEqualTo(12);
    }

    @Test
    void rejectsSockhashWithValueOtherThanFourOrEightBytes() {
        assertThatThrownBy(() -> MapSpec.of("sockh", MapType.SOCKHASH, 12, 16, 16))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("BPF_MAP_TYPE_SOCKHASH values");
    }

    @Test
    void buildsSockmapOfFourByteSlotsAndEightByteValues() {
        MapSpec spec = MapSpec.sockMap("sockets", 32);

        assertThat(spec.type()).isEqualTo(MapType.SOCKMAP);
        assertThat(spec.keySize()).isEqualTo(4);
        assertThat(spec.valueSize()).isEqualTo(8);
        assertThat(spec.maxEntries()).isEqualTo(32);
        assertThat(spec.flags()).isEmpty();
    }

    // ---- LPM_TRIE ----------------------------------------------------------------------------

    @Test
    void rejectsLpmTrieWithoutNoPrealloc() {
        assertThatThrownBy(() -> MapSpec.of("prefixes", MapType.LPM_TRIE, 8, 4, 16))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("BPF_F_NO_PREALLOC");
    }

    @ParameterizedTest
    @ValueSource(ints = {5, 8, 20, 260})
    void acceptsLpmTrieKeyOfPrefixLengthPlusOneTo256Bytes(int keySize) {
        MapSpec spec = new MapSpec("prefixes", MapType.LPM_TRIE, keySize, 4, 16, Set.of(MapFlag.BPF_F_NO_PREALLOC));

        assertThat(spec.keySize()).isEqualTo(keySize);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 4, 261, 1024})
    void rejectsLpmTrieKeyOutsideFiveTo260Bytes(int keySize) {
        assertThatThrownBy(() -> new MapSpec("prefixes", MapType.LPM_TRIE, keySize, 4, 16, Set.of(MapFlag.BPF_F_NO_PREALLOC)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("LPM_TRIE keys")
                .hasMessageContaining(String.valueOf(keySize));
    }

    @Test
    void buildsLpmTrieWithNoPreallocAndPrefixLengthInTheKey() {
        MapSpec spec = MapSpec.lpmTrie("v6", 16, 4, 128);

        assertThat(spec.type()).isEqualTo(MapType.LPM_TRIE);
        assertThat(spec.keySize()).isEqualTo(20);
        assertThat(spec.flags()).containsExactly(MapFlag.BPF_F_NO_PREALLOC);
    }

    // ---- every type --------------------------------------------------------------------------

    @Test
    void acceptsHashWithAnyPositiveSizes() {
        MapSpec spec = MapSpec.of("h", MapType.HASH, 3, 7, 1);

        assertThat(spec.keySize()).isEqualTo(3);
        assertThat(spec.valueSize()).isEqualTo(7);
        assertThat(spec.maxEntries()).isEqualTo(1);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1})
    void rejectsNonPositiveKeySize(int keySize) {
        assertThatThrownBy(() -> MapSpec.of("h", MapType.HASH, keySize, 4, 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("sizes must be positive");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -4})
    void rejectsNonPositiveValueSize(int valueSize) {
        assertThatThrownBy(() -> MapSpec.of("h", MapType.HASH, 4, valueSize, 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("sizes must be positive");
    }

    @ParameterizedTest
    @EnumSource(MapType.class)
    void rejectsZeroMaxEntriesForEveryType(MapType type) {
        assertThatThrownBy(() -> new MapSpec("m", type, 4, 8, 0, Set.of(MapFlag.BPF_F_NO_PREALLOC)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("max entries must be positive");
    }

    @Test
    void rejectsNegativeMaxEntries() {
        assertThatThrownBy(() -> MapSpec.of("h", MapType.HASH, 4, 4, -1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("-1");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "sixteen_chars_xx", "two words", "dash-ed"})
    void rejectsNamesTheKernelRefuses(String name) {
        assertThatThrownBy(() -> MapSpec.of(name, MapType.HASH, 4, 4, 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("1 to 15 characters");
    }

    @Test
    void rejectsMissingType() {
        assertThatThrownBy(() -> MapSpec.of("m", null, 4, 4, 1)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void keepsFlagsImmutable() {
        MapSpec spec = MapSpec.lpmTrie("v4", 4, 4, 16);

        assertThatThrownBy(() -> spec.flags().clear()).isInstanceOf(UnsupportedOperationException.class);
    }
}
