pragma circom 2.0.0;

// Statement: "I know private field elements a, b such that
//     a * b     == c
//     a + b     == d
//     a * a + b == e"
// where c, d, e are public inputs. There are no outputs, so the public
// signals (public.json) are exactly [c, d, e], in that order.
template ProductSumSquare() {
    // private inputs
    signal input a;
    signal input b;
    // public inputs (declared public in the main component below)
    signal input c;
    signal input d;
    signal input e;

    signal aa;

    a * b === c;
    a + b === d;
    aa <== a * a;
    aa + b === e;
}

component main {public [c, d, e]} = ProductSumSquare();
